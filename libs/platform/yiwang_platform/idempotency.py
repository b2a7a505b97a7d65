"""``Idempotency-Key`` for creating POSTs: the first response is stored in the same
transaction as the created resource and replayed for a retry with the same key;
the same key with a different body is a 409.

``principal`` scopes keys per caller. It is stored as given, so pass an opaque
reference — for citizens the blind index of their identifier, never the identifier.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, Integer, MetaData, String, Table, Text, select
from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_platform.db import UtcDateTime
from yiwang_platform.errors import ProblemError


def idempotency_table(metadata: MetaData) -> Table:
    return Table(
        "idempotency_keys",
        metadata,
        Column("principal", String(200), primary_key=True),
        Column("key", String(200), primary_key=True),
        Column("request_hash", String(64), nullable=False),
        Column("status", Integer, nullable=False),
        Column("body", Text, nullable=False),
        Column("created_at", UtcDateTime(), nullable=False),
    )


def request_hash(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


async def replay(
    session: AsyncSession, table: Table, principal: str, key: str | None, digest: str
) -> tuple[int, Any] | None:
    """The stored (status, body) for this key, or None when it is new."""
    if not key:
        return None
    if len(key) > 200:
        raise ProblemError(
            400, "bad_request", "请求有误", "Idempotency-Key longer than 200 characters"
        )
    row = (
        await session.execute(
            select(table).where(table.c.principal == principal, table.c.key == key)
        )
    ).first()
    if row is None:
        return None
    if row.request_hash != digest:
        raise ProblemError(
            409,
            "idempotency_key_reused",
            "幂等键已用于不同的请求",
            title_en="Idempotency key reused",
        )
    return row.status, json.loads(row.body)


async def remember(
    session: AsyncSession,
    table: Table,
    principal: str,
    key: str | None,
    digest: str,
    status: int,
    body: Any,
) -> None:
    if not key:
        return
    await session.execute(
        table.insert().values(
            principal=principal,
            key=key,
            request_hash=digest,
            status=status,
            body=json.dumps(body, ensure_ascii=False, default=str),
            created_at=datetime.now(UTC),
        )
    )
