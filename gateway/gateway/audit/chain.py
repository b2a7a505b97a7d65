"""Reading and verifying the gateway's hash-chained audit log."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.models import audit_entries
from gateway.schemas import AuditEntryRead
from yiwang_platform.pagination import Page, decode_key, encode_key

# Who may read the audit log, its checkpoints and their verification.
READERS = ("supervisor", "operator")


async def list_entries(
    session: AsyncSession, *, subject_index: str | None, cursor: str | None, limit: int
) -> Page[AuditEntryRead]:
    """Entries newest first, those about ``subject_index`` only when given."""
    t = audit_entries
    query = select(t.c.seq, t.c.at, t.c.hash, t.c.entry).order_by(t.c.seq.desc()).limit(limit)
    if subject_index is not None:
        query = query.where(t.c.subject_index == subject_index)
    after = decode_key(cursor, int)
    if after is not None:
        query = query.where(t.c.seq < after[0])
    rows = (await session.execute(query)).all()
    items = [
        AuditEntryRead(seq=r.seq, at=r.at, hash=r.hash, entry=json.loads(r.entry)) for r in rows
    ]
    if subject_index is not None:  # the index column is not hashed: trust the entry
        items = [i for i in items if i.entry.get("subject_index") == subject_index]
    next_cursor = encode_key(rows[-1].seq) if len(rows) == limit else None
    return Page[AuditEntryRead](items=items, next_cursor=next_cursor)
