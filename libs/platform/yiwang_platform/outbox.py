"""Transactional outbox: the domain write and its events commit together; a relay
publishes committed events to the bus, retries with backoff and resumes after a crash."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
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
    delete,
    event,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from yiwang_platform.bus.base import EventBus, OutgoingMessage
from yiwang_platform.db import UtcDateTime
from yiwang_platform.events.contract import EventData, dataschema_uri
from yiwang_platform.events.envelope import CloudEvent
from yiwang_platform.tracing import current_traceparent

log = logging.getLogger(__name__)

_BigId = BigInteger().with_variant(Integer, "sqlite")


def outbox_table(metadata: MetaData) -> Table:
    return Table(
        "outbox",
        metadata,
        Column("id", _BigId, primary_key=True, autoincrement=True),
        Column("event_id", String(36), nullable=False, unique=True),
        Column("topic", String(200), nullable=False),
        Column("message_key", String(200), nullable=True),
        Column("headers", Text, nullable=False),
        Column("payload", Text, nullable=False),
        Column("created_at", UtcDateTime(), nullable=False),
        Column("published_at", UtcDateTime(), nullable=True),
        Column("attempts", Integer, nullable=False, default=0),
        Index("ix_outbox_unpublished", "published_at", "id"),
    )


def inbox_table(metadata: MetaData) -> Table:
    return Table(
        "inbox",
        metadata,
        Column("consumer", String(100), primary_key=True),
        Column("event_id", String(100), primary_key=True),
        Column("event_type", String(200), nullable=False),
        Column("processed_at", UtcDateTime(), nullable=False),
    )


class Outbox:
    """Adds events to the caller's transaction; wakes the relay after commit."""

    def __init__(self, table: Table, source: str) -> None:
        self.table = table
        self.source = source
        self._wake = asyncio.Event()

    async def add(
        self, session: AsyncSession, data: EventData, *, key: str, subject: str | None = None
    ) -> CloudEvent:
        return (await self.add_many(session, [(data, key)], subject=subject))[0]

    async def add_many(
        self,
        session: AsyncSession,
        events: Sequence[tuple[EventData, str]],
        *,
        subject: str | None = None,
    ) -> list[CloudEvent]:
        """Each ``(data, key)`` as one outbox row, in one statement (a batch's events)."""
        traceparent = current_traceparent()
        now = datetime.now(UTC)
        envelopes: list[CloudEvent] = []
        rows = []
        for data, key in events:
            ce = CloudEvent(
                type=data.event_type,
                source=self.source,
                subject=subject or key,
                dataschema=dataschema_uri(data.event_type),
                traceparent=traceparent,
                data=data.model_dump(mode="json"),
            )
            envelopes.append(ce)
            rows.append(
                {
                    "event_id": ce.id,
                    "topic": data.topic,
                    "message_key": key,
                    "headers": json.dumps(
                        [(k, v.decode()) for k, v in ce.headers()], ensure_ascii=False
                    ),
                    "payload": ce.value().decode(),
                    "created_at": now,
                    "attempts": 0,
                }
            )
        if rows:
            await session.execute(self.table.insert(), rows)
            session.info["outbox_pending"] = True
        return envelopes

    def bind(self, factory: async_sessionmaker[AsyncSession]) -> None:
        """Wake the relay whenever a session of ``factory`` commits outbox rows."""
        sync_class = factory.kw.get("sync_session_class", Session)

        class _OutboxSession(sync_class):  # type: ignore[misc,valid-type]
            pass

        @event.listens_for(_OutboxSession, "after_commit")
        def _after_commit(session: Session) -> None:
            if session.info.pop("outbox_pending", False):
                self._wake.set()

        factory.configure(sync_session_class=_OutboxSession)

    async def wait_for_work(self, timeout: float) -> None:
        try:
            await asyncio.wait_for(self._wake.wait(), timeout)
        except TimeoutError:
            pass
        self._wake.clear()


class OutboxRelay:
    """Publishes committed outbox rows in id order.

    On PostgreSQL rows are claimed with ``FOR UPDATE SKIP LOCKED`` so several
    replicas relay side by side; a row is marked published in the same
    transaction that held its lock, so a crash before the mark republishes it
    (consumers are idempotent) and a crash after it loses nothing.
    """

    def __init__(
        self,
        outbox: Outbox,
        factory: async_sessionmaker[AsyncSession],
        bus: EventBus,
        batch_size: int = 200,
        poll_interval: float = 0.5,
        retention: timedelta = timedelta(days=7),
    ) -> None:
        self.outbox = outbox
        self.factory = factory
        self.bus = bus
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.retention = retention
        self.published = 0
        self._stopping = asyncio.Event()

    async def relay_once(self) -> int:
        """Publish one batch; return how many rows were published."""
        t = self.outbox.table
        async with self.factory() as session, session.begin():
            query = (
                select(t.c.id, t.c.topic, t.c.message_key, t.c.headers, t.c.payload)
                .where(t.c.published_at.is_(None))
                .order_by(t.c.id)
                .limit(self.batch_size)
            )
            if self.factory.kw["bind"].dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            rows = (await session.execute(query)).all()
            if not rows:
                return 0
            messages = [
                OutgoingMessage(
                    topic=r.topic,
                    key=r.message_key.encode() if r.message_key else None,
                    value=r.payload.encode(),
                    headers=[(k, v.encode()) for k, v in json.loads(r.headers)],
                )
                for r in rows
            ]
            await self.bus.publish(messages)
            await session.execute(
                update(t)
                .where(t.c.id.in_([r.id for r in rows]))
                .values(published_at=datetime.now(UTC), attempts=t.c.attempts + 1)
            )
        self.published += len(rows)
        return len(rows)

    async def purge_published(self, *, now: datetime | None = None) -> int:
        """Delete rows published longer than ``retention`` ago; how many went.
        Unpublished rows stay whatever their age: they are still to be sent."""
        t = self.outbox.table
        cutoff = (now or datetime.now(UTC)) - self.retention
        async with self.factory() as session, session.begin():
            result = await session.execute(delete(t).where(t.c.published_at < cutoff))
        return int(getattr(result, "rowcount", 0) or 0)

    async def run(self) -> None:
        backoff = 0.2
        while not self._stopping.is_set():
            try:
                n = await self.relay_once()
                backoff = 0.2
                if n < self.batch_size:
                    await self.outbox.wait_for_work(self.poll_interval)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning(
                    "outbox relay failed, retrying in %.1fs: %s", backoff, type(exc).__name__
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)

    async def drain(self, timeout: float = 10.0) -> None:
        """Publish what is left (graceful shutdown), bounded by ``timeout``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            try:
                if await self.relay_once() == 0:
                    return
            except Exception:
                await asyncio.sleep(0.5)

    def stop(self) -> None:
        self._stopping.set()
        self.outbox._wake.set()


def pending_count_query(table: Table) -> Any:
    from sqlalchemy import func

    return select(func.count()).select_from(table).where(table.c.published_at.is_(None))
