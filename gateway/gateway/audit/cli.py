"""Verifying the gateway's hash-chained audit log.

``python -m gateway.audit verify`` reads the gateway's settings (``YIWANG_DATABASE_URL``,
``YIWANG_AUDIT_CHAIN_KEY``, ``YIWANG_AUDIT_CHECKPOINT_PRIVATE_KEY``, ...), walks the whole
chain, checks it against its signed checkpoints and prints ``OK`` with the number of
entries and the head hash, or the first tampered entry; it exits 1 when the chain does
not hold (2 on a usage error).
"""

from __future__ import annotations

from gateway.models import audit_checkpoints, audit_entries
from gateway.settings import Settings
from yiwang_platform.audit_checkpoints import verify_command

USAGE = "usage: python -m gateway.audit verify"


def main(argv: list[str], settings: Settings | None = None) -> int:
    return verify_command(
        argv,
        settings or Settings(),
        usage=USAGE,
        chain=audit_entries,
        checkpoints=audit_checkpoints,
    )
