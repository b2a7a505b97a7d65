"""``Idempotency-Key`` for creating POSTs: the first answer is remembered in the same
transaction as the created resource and replayed for a retry with the same key; the
same key with a different body is a 409.

A record keeps only what a replay needs — the status, the id of the resource created
(the route re-reads it and builds the answer as it did the first time) and a keyed hash
of the request — never the answer itself. An answer that is not one resource (a batch's
per-record results) is kept encrypted with the service's PII cipher. Records expire
(``idempotency_ttl_seconds``, 24 h by default); an expired key counts as new, and the
runtime purges expired records.

``principal`` scopes keys per caller. It is stored as given, so pass an opaque
reference — for citizens the blind index of their identifier, never the identifier.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from sqlalchemy import Column, Index, Integer, MetaData, String, Table, Text, delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yiwang_platform.db import UtcDateTime
from yiwang_platform.errors import ProblemError
from yiwang_platform.pii import PiiCipher

TABLE = "idempotency_keys"


def idempotency_table(metadata: MetaData) -> Table:
    return Table(
        TABLE,
        metadata,
        Column("principal", String(200), primary_key=True),
        Column("key", String(200), primary_key=True),
        Column("request_hash", String(64), nullable=False),
        Column("status", Integer, nullable=False),
        Column("resource_id", String(200), nullable=True),
        Column("body_encrypted", Text, nullable=True),
        Column("created_at", UtcDateTime(), nullable=False),
        Column("expires_at", UtcDateTime(), nullable=False),
        Index("ix_idempotency_keys_expires_at", "expires_at"),
    )


def request_hash(payload: Any, cipher: PiiCipher | None = None) -> str:
    """HMAC of the canonical request with the service's key when it has one, so a stored
    hash of a body holding personal data cannot be matched against guessed bodies; plain
    SHA-256 for services that keep no personal data (and hence no key)."""
    canonical = json.dumps(payload, sort_keys=True, default=str, ensure_ascii=False).encode()
    if cipher is not None:
        return cipher.mac("idempotency-request", canonical)
    return hashlib.sha256(canonical).hexdigest()


@dataclass(frozen=True)
class Replay:
    """What the first request answered: rebuild it from ``resource_id``, or use ``body``."""

    status: int
    resource_id: str | None
    body: Any = None


class Idempotency:
    """One request's ``Idempotency-Key`` (None when the client sent none: nothing is
    replayed or remembered). ``replay`` first, then ``remember`` in the same transaction."""

    def __init__(self, table: Table, key: str | None, *, ttl: timedelta) -> None:
        if key is not None and len(key) > 200:
            raise ProblemError(
                400, "bad_request", "请求有误", "Idempotency-Key longer than 200 characters"
            )
        self.table = table
        self.key = key or None
        self.ttl = ttl
        self._scope: str | None = None
        self._digest = ""
        self._cipher: PiiCipher | None = None

    async def replay(
        self,
        session: AsyncSession,
        principal: str,
        *,
        payload: Any,
        cipher: PiiCipher | None = None,
        now: datetime | None = None,
    ) -> Replay | None:
        """The first answer to this key, or None when the key is new (or expired)."""
        self._scope, self._cipher = principal, cipher
        self._digest = request_hash(payload, cipher)
        if self.key is None:
            return None
        t = self.table
        where = (t.c.principal == principal, t.c.key == self.key)
        row = (await session.execute(select(t).where(*where))).first()
        if row is None:
            return None
        if row.expires_at <= (now or datetime.now(UTC)):
            await session.execute(delete(t).where(*where))
            return None
        if row.request_hash != self._digest:
            raise ProblemError(
                409,
                "idempotency_key_reused",
                "幂等键已用于不同的请求",
                title_en="Idempotency key reused",
            )
        body = None
        if row.body_encrypted is not None and cipher is not None:
            body = json.loads(cipher.decrypt(row.body_encrypted))
        return Replay(row.status, row.resource_id, body)

    async def remember(
        self,
        session: AsyncSession,
        status: int,
        *,
        resource_id: str | None = None,
        body: Any = None,
        now: datetime | None = None,
    ) -> None:
        """Keep the answer: the created resource's id, or (encrypted) a ``body`` that
        is not one resource."""
        if self.key is None:
            return
        if self._scope is None:
            raise RuntimeError("replay() first: it binds the caller and the request")
        encrypted = None
        if body is not None:
            if self._cipher is None:
                raise RuntimeError("an answer body is only kept encrypted: pass cipher=")
            encrypted = self._cipher.encrypt(json.dumps(body, ensure_ascii=False, default=str))
        at = now or datetime.now(UTC)
        await session.execute(
            self.table.insert().values(
                principal=self._scope,
                key=self.key,
                request_hash=self._digest,
                status=status,
                resource_id=resource_id,
                body_encrypted=encrypted,
                created_at=at,
                expires_at=at + self.ttl,
            )
        )


async def purge_expired(
    factory: async_sessionmaker[AsyncSession], table: Table, *, now: datetime
) -> int:
    """Delete the records whose key may be used afresh; how many went."""
    async with factory() as session, session.begin():
        result = await session.execute(delete(table).where(table.c.expires_at <= now))
    return int(getattr(result, "rowcount", 0) or 0)


async def get_idempotency(
    request: Request,
    key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> Idempotency:
    runtime = request.app.state.runtime
    return Idempotency(
        runtime.spec.metadata.tables[TABLE],
        key,
        ttl=timedelta(seconds=runtime.settings.idempotency_ttl_seconds),
    )


IdempotencyDep = Annotated[Idempotency, Depends(get_idempotency)]
