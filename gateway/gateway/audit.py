"""Verifying the gateway's hash-chained audit log.

``python -m gateway.audit verify`` reads the gateway's settings (``YIWANG_DATABASE_URL``,
``YIWANG_AUDIT_CHAIN_KEY``, ``YIWANG_AUDIT_CHECKPOINT_PRIVATE_KEY``, ...), walks the whole
chain, checks it against its signed checkpoints and prints ``OK`` with the number of
entries and the head hash, or the first tampered entry; it exits 1 when the chain does
not hold (2 on a usage error).
"""

from __future__ import annotations

import asyncio
import sys

from gateway.models import audit_checkpoints, audit_entries
from gateway.settings import Settings
from yiwang_platform.audit_chain import VerifyResult, chain_key
from yiwang_platform.audit_checkpoints import CheckpointKey, verify_anchored
from yiwang_platform.db import create_engine, session_factory

USAGE = "usage: python -m gateway.audit verify"


async def verify_chain(settings: Settings) -> VerifyResult:
    engine = create_engine(settings.resolved_database_url())
    try:
        async with session_factory(engine)() as session:
            return await verify_anchored(
                session,
                audit_entries,
                checkpoints=audit_checkpoints,
                key=chain_key(settings),
                jwks=CheckpointKey.from_settings(settings).jwks(),
            )
    finally:
        await engine.dispose()


def describe(result: VerifyResult) -> str:
    if result.ok:
        return f"OK: {result.entries_checked} entries, head {result.head_hash or '-'}"
    return (
        f"TAMPERED at seq {result.first_bad_seq}: {result.reason} "
        f"({result.entries_checked} entries before it hold)"
    )


def main(argv: list[str], settings: Settings | None = None) -> int:
    if argv != ["verify"]:
        print(USAGE, file=sys.stderr)
        return 2
    result = asyncio.run(verify_chain(settings or Settings()))
    print(describe(result))
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
