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

from gateway.audit.chain import verify_stored
from gateway.settings import Settings
from yiwang_platform.audit_chain import VerifyResult

USAGE = "usage: python -m gateway.audit verify"


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
    result = asyncio.run(verify_stored(settings or Settings()))
    print(describe(result))
    return 0 if result.ok else 1
