"""An append-only log whose entries are hash-chained, and its verifier.

Each row holds one entry (a JSON object, stored in canonical form: sorted keys,
compact separators, UTF-8 text) and ``hash = H(prev_hash + entry)``, where ``H`` is
HMAC-SHA256 under the chain key (``chain_key``: a setting, never in the database;
plain SHA-256 only where no key is given, e.g. in tests). The first entry links to
``GENESIS``. Editing an entry or a hash, deleting a row or reordering rows breaks the
chain at that row, and ``verify`` reports the first such row. Someone who can write to
the database but does not hold the key cannot rebuild a consistent chain after a change.

What the chain cannot show on its own is a rebuild by someone who holds the key, or the
loss of its newest rows: signed checkpoints of its head (``audit_checkpoints``) anchor
it, and ``verify`` checks the chain against them when given them.

``seq`` is assigned here (head + 1) while the chain head is held, not by a database
sequence: a rolled-back append would otherwise leave a gap that looks like a
deleted row. Holding the head:

- PostgreSQL: a transaction-scoped advisory lock derived from the table name, so
  concurrent appenders (several replicas included) take turns; it is released when
  the caller's transaction ends.
- SQLite: the platform begins every transaction with ``BEGIN IMMEDIATE``, so the
  transaction already holds the database write lock.

Optional indexed columns (``indexed=``) copy top-level values of each entry for
look-ups (e.g. a subject's blind index). They are not part of the hash; ``verify``
checks they still equal the entry's values, and readers should re-check the entry.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_platform.db import UtcDateTime
from yiwang_platform.keyfiles import write_once
from yiwang_platform.settings import ServiceSettings

GENESIS = "0" * 64
VERIFY_BATCH = 1000

_BigId = BigInteger().with_variant(Integer, "sqlite")


def audit_chain_table(metadata: MetaData, name: str, *, indexed: Sequence[str] = ()) -> Table:
    """A chain table; ``indexed`` names top-level entry keys copied to indexed columns."""
    extra: list[Any] = [Column(key, String(200), nullable=True) for key in indexed]
    extra += [Index(f"ix_{name}_{key}_seq", key, "seq") for key in indexed]
    table = Table(
        name,
        metadata,
        Column("seq", _BigId, primary_key=True, autoincrement=False),
        Column("at", UtcDateTime(), nullable=False),
        Column("entry", Text, nullable=False),
        Column("prev_hash", String(64), nullable=False),
        Column("hash", String(64), nullable=False),
        *extra,
    )
    table.info["audit_chain_indexed"] = tuple(indexed)
    return table


def canonical(entry: dict[str, Any]) -> str:
    """The stored text of an entry: sorted keys, no spaces, non-ASCII kept as is."""
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chain_hash(prev_hash: str, entry_text: str, *, key: bytes | None = None) -> str:
    material = (prev_hash + entry_text).encode()
    if key:
        return hmac.new(key, material, hashlib.sha256).hexdigest()
    return hashlib.sha256(material).hexdigest()


def chain_key(settings: ServiceSettings) -> bytes:
    """The HMAC key of audit chains from ``YIWANG_AUDIT_CHAIN_KEY`` (base64, 32+ bytes).

    Required in the distributed run; the standalone run creates ``var/audit-chain.key``
    on first use (as it does the PII key), so its chains are keyed too."""
    value = settings.audit_chain_key.strip()
    if not value:
        if settings.environment == "distributed":
            raise RuntimeError("YIWANG_AUDIT_CHAIN_KEY must be set in the distributed run")
        path = Path(settings.var_dir) / "audit-chain.key"
        if not path.exists():
            write_once(path, base64.b64encode(os.urandom(32)))
        value = path.read_text().strip()
    key = base64.b64decode(value, validate=True)
    if len(key) < 32:
        raise ValueError("YIWANG_AUDIT_CHAIN_KEY must decode to at least 32 bytes")
    return key


def _lock_id(table: Table) -> int:
    digest = hashlib.sha256(f"yiwang-audit-chain:{table.name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@dataclass(frozen=True)
class Appended:
    seq: int
    hash: str


async def append(
    session: AsyncSession,
    table: Table,
    *,
    entries: Iterable[dict[str, Any]],
    key: bytes | None = None,
    at: datetime | None = None,
) -> list[Appended]:
    """Append ``entries`` in order, in the caller's transaction (commit it to keep them)."""
    batch = list(entries)
    if not batch:
        return []
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _lock_id(table)})
    head = (
        await session.execute(
            select(table.c.seq, table.c.hash).order_by(table.c.seq.desc()).limit(1)
        )
    ).first()
    seq, prev = (int(head.seq), str(head.hash)) if head is not None else (0, GENESIS)
    when = at or datetime.now(UTC)
    indexed: tuple[str, ...] = table.info.get("audit_chain_indexed", ())
    rows: list[dict[str, Any]] = []
    done: list[Appended] = []
    for entry in batch:
        seq += 1
        entry_text = canonical(entry)
        digest = chain_hash(prev, entry_text, key=key)
        row: dict[str, Any] = {
            "seq": seq,
            "at": when,
            "entry": entry_text,
            "prev_hash": prev,
            "hash": digest,
        }
        for name in indexed:
            value = entry.get(name)
            row[name] = None if value is None else str(value)
        rows.append(row)
        done.append(Appended(seq, digest))
        prev = digest
    await session.execute(table.insert(), rows)
    return done


# Bytes of each entry's hash that a checkpoint keeps, to name the first altered entry.
FINGERPRINT_BYTES = 4


def fingerprint(entry_hash: str) -> bytes:
    return bytes.fromhex(entry_hash[: FINGERPRINT_BYTES * 2])


@dataclass(frozen=True)
class Anchor:
    """What a signed checkpoint vouches for (its signature checked by the caller, see
    ``audit_checkpoints``): entry ``seq``'s hash, and a fingerprint of each entry's hash
    from ``from_seq`` to ``seq``. The head hash shows that something changed; the
    fingerprints say which entry first."""

    seq: int
    from_seq: int
    hash: str
    fingerprints: bytes

    def fingerprint_of(self, seq: int) -> bytes | None:
        if not self.from_seq <= seq <= self.seq:
            return None
        at = (seq - self.from_seq) * FINGERPRINT_BYTES
        return self.fingerprints[at : at + FINGERPRINT_BYTES]


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    entries_checked: int
    first_bad_seq: int | None = None
    reason: str | None = None
    head_hash: str | None = None
    checkpoints_checked: int = 0


async def verify(
    session: AsyncSession,
    table: Table,
    *,
    key: bytes | None = None,
    batch_size: int = VERIFY_BATCH,
    anchors: Sequence[Anchor] = (),
) -> VerifyResult:
    """Walk the chain in ``seq`` order and report the first entry that does not hold.

    With ``anchors`` (from signed checkpoints) it also reports an entry changed by
    someone who rebuilt every hash after it (held the key, or the chain has none): the
    first entry whose hash differs from what a checkpoint recorded; and the loss of the
    newest entries, when the chain ends before the last checkpoint.

    Reads in batches and ends the session's transaction after each one, so a long walk
    holds no lock (SQLite transactions take the write lock) and no old snapshot: pass a
    session without pending work.
    """
    indexed: tuple[str, ...] = table.info.get("audit_chain_indexed", ())
    columns = [table.c.seq, table.c.entry, table.c.prev_hash, table.c.hash]
    columns += [table.c[name] for name in indexed]
    at_seq = {a.seq: a for a in anchors}
    expected_seq, prev, checked, anchored = 1, GENESIS, 0, 0
    while True:
        rows = (
            await session.execute(
                select(*columns)
                .where(table.c.seq >= expected_seq)
                .order_by(table.c.seq)
                .limit(batch_size)
            )
        ).all()
        if session.in_transaction():
            await session.rollback()
        if not rows:
            break
        for row in rows:
            seq = int(row.seq)
            problem = _problem(row, expected_seq, prev=prev, key=key, indexed=indexed)
            anchor = at_seq.get(seq)
            if problem is None and anchor is not None and anchor.hash != row.hash:
                problem = seq, f"hash differs from the one checkpoint {anchor.seq} signed"
            if problem is not None:
                bad_seq, reason = await _earlier_change(
                    session, table, anchors=anchors, bad_seq=problem[0], reason=problem[1]
                )
                return VerifyResult(
                    False, min(checked, bad_seq - 1), bad_seq, reason, checkpoints_checked=anchored
                )
            anchored += anchor is not None
            checked += 1
            prev = row.hash
            expected_seq = seq + 1
    last = max((a.seq for a in anchors), default=0)
    if last > expected_seq - 1:
        return VerifyResult(
            False,
            checked,
            expected_seq,
            f"entries {expected_seq} to {last} are missing: checkpoint {last} covers them",
            checkpoints_checked=anchored,
        )
    return VerifyResult(
        True, checked, head_hash=prev if checked else None, checkpoints_checked=anchored
    )


async def _earlier_change(
    session: AsyncSession, table: Table, *, anchors: Sequence[Anchor], bad_seq: int, reason: str
) -> tuple[int, str]:
    """An entry before ``bad_seq`` whose hash differs from a checkpoint's fingerprint of
    it (a rebuilt stretch of chain), else ``bad_seq`` and its reason."""
    covering = [a for a in anchors if a.from_seq < bad_seq <= a.seq]
    if not covering:
        return bad_seq, reason
    start = min(a.from_seq for a in covering)
    rows = (
        await session.execute(
            select(table.c.seq, table.c.hash)
            .where(table.c.seq >= start, table.c.seq < bad_seq)
            .order_by(table.c.seq)
        )
    ).all()
    if session.in_transaction():
        await session.rollback()
    for row in rows:
        for anchor in covering:
            recorded = anchor.fingerprint_of(int(row.seq))
            if recorded is not None and recorded != fingerprint(row.hash):
                return int(row.seq), f"entry differs from the one checkpoint {anchor.seq} signed"
    return bad_seq, reason


def _problem(
    row: Any, expected_seq: int, *, prev: str, key: bytes | None, indexed: tuple[str, ...]
) -> tuple[int, str] | None:
    seq = int(row.seq)
    if seq != expected_seq:
        return expected_seq, f"entry {expected_seq} is missing (next is {seq})"
    if row.prev_hash != prev:
        return seq, "prev_hash does not match the previous entry's hash"
    if chain_hash(prev, row.entry, key=key) != row.hash:
        return seq, "hash does not match the entry"
    if indexed:
        try:
            entry = json.loads(row.entry)
        except ValueError:
            return seq, "entry is not JSON"
        for name in indexed:
            value = entry.get(name) if isinstance(entry, dict) else None
            if getattr(row, name) != (None if value is None else str(value)):
                return seq, f"column {name} does not match the entry"
    return None
