"""Idempotent event consumers with dead-lettering.

Each event's effect and its inbox row commit in one transaction, so a
redelivered event changes nothing. An event that is not a valid CloudEvent,
fails its schema or is rejected by its handler goes to ``<topic>.dlq`` with the
reason, and the consumer goes on. Infrastructure faults (database or broker
down) are retried without advancing the offset, so nothing is skipped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from opentelemetry import context as otel_context
from prometheus_client import Counter
from sqlalchemy import Table, select
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, ProgrammingError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yiwang_platform import tracing
from yiwang_platform.bus.base import BusConsumer, EventBus, Message, OutgoingMessage
from yiwang_platform.events.envelope import CloudEvent, EnvelopeError
from yiwang_platform.events.schemas import EventSchemas, SchemaViolation
from yiwang_platform.masking import mask

log = logging.getLogger(__name__)

Handler = Callable[[AsyncSession, CloudEvent], Awaitable[None]]

EVENTS_PROCESSED = Counter(
    "yiwang_events_processed_total", "Events consumed", ["consumer", "event_type", "outcome"]
)


class RejectEvent(Exception):
    """Raised by a handler for an event that can never be applied (goes to the DLQ)."""


def dlq_topic(topic: str) -> str:
    return f"{topic}.dlq"


class EventConsumer:
    def __init__(
        self,
        name: str,
        handlers: dict[str, tuple[str, Handler]],
        factory: async_sessionmaker[AsyncSession],
        bus: EventBus,
        schemas: EventSchemas,
        inbox: Table,
        batch_size: int = 200,
        max_attempts: int = 3,
    ) -> None:
        """``handlers`` maps event type to (topic, handler); ``name`` is the consumer group."""
        self.name = name
        self.handlers = handlers
        self.topics = sorted({topic for topic, _ in handlers.values()})
        self.factory = factory
        self.bus = bus
        self.schemas = schemas
        self.inbox = inbox
        self.batch_size = batch_size
        self.max_attempts = max_attempts
        self.applied = 0
        self.dead_lettered = 0
        self._stopping = asyncio.Event()
        self._consumer: BusConsumer | None = None

    async def run(self) -> None:
        backoff = 0.5
        while not self._stopping.is_set():
            try:
                self._consumer = self.bus.consumer(self.topics, self.name)
                await self._consumer.start()
                backoff = 0.5
                await self._loop(self._consumer)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("consumer %s restarting after %s", self.name, type(exc).__name__)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
            finally:
                if self._consumer is not None:
                    try:
                        await self._consumer.stop()
                    except Exception:
                        log.debug("consumer stop failed", exc_info=True)
                    self._consumer = None

    async def _loop(self, consumer: BusConsumer) -> None:
        while not self._stopping.is_set():
            batch = await consumer.poll(self.batch_size, timeout=0.5)
            if not batch:
                continue
            for message in batch:
                done = await self._process(message)
                if not done:  # stopping mid-retry: leave the rest uncommitted for redelivery
                    return
            await consumer.commit()

    async def _process(self, message: Message) -> bool:
        """Apply or dead-letter one message; False only when stopping before it was handled."""
        try:
            event = CloudEvent.from_message(message.headers, message.value)
        except EnvelopeError as exc:
            return await self._dead_letter(message, f"envelope: {exc}", "?")
        route = self.handlers.get(event.type)
        if route is None:
            return True  # another consumer's event on a shared topic
        try:
            self.schemas.validate(event.type, event.data)
        except SchemaViolation as exc:
            return await self._dead_letter(message, f"schema: {exc}", event.type)

        ctx = tracing.extract({"traceparent": event.traceparent} if event.traceparent else {})
        token = otel_context.attach(ctx)
        try:
            return await self._apply_with_retries(message, event, route[1])
        finally:
            otel_context.detach(token)

    async def _apply_with_retries(
        self, message: Message, event: CloudEvent, handler: Handler
    ) -> bool:
        attempts = 0
        backoff = 0.2
        while True:
            try:
                applied = await self._apply(event, handler)
                EVENTS_PROCESSED.labels(
                    self.name, event.type, "applied" if applied else "duplicate"
                ).inc()
                return True
            except RejectEvent as exc:
                return await self._dead_letter(message, f"rejected: {exc}", event.type)
            except (IntegrityError, DataError, ProgrammingError) as exc:
                attempts += 1
                if attempts >= self.max_attempts:
                    return await self._dead_letter(
                        message, f"database: {type(exc.orig).__name__}", event.type
                    )
            except (DBAPIError, OSError):
                # Database unreachable: wait for it, never skip the event.
                log.warning("consumer %s: database unavailable, retrying", self.name)
            except Exception as exc:
                attempts += 1
                if attempts >= self.max_attempts:
                    return await self._dead_letter(
                        message, f"handler: {type(exc).__name__}: {exc}", event.type
                    )
                log.warning(
                    "consumer %s: handler failed (%s), retrying", self.name, type(exc).__name__
                )
            if self._stopping.is_set():
                return False
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 10.0)

    async def _apply(self, event: CloudEvent, handler: Handler) -> bool:
        inbox = self.inbox
        async with self.factory() as session, session.begin():
            seen = await session.scalar(
                select(inbox.c.event_id).where(
                    inbox.c.consumer == self.name, inbox.c.event_id == event.id
                )
            )
            if seen is not None:
                return False
            await session.execute(
                inbox.insert().values(
                    consumer=self.name,
                    event_id=event.id,
                    event_type=event.type,
                    processed_at=datetime.now(UTC),
                )
            )
            await handler(session, event)
        self.applied += 1
        return True

    async def _dead_letter(self, message: Message, reason: str, event_type: str) -> bool:
        reason = mask(reason)[:1000]
        headers = [h for h in message.headers if not h[0].startswith("dlq_")]
        headers += [
            ("dlq_reason", reason.encode()),
            ("dlq_original_topic", message.topic.encode()),
            ("dlq_original_partition", str(message.partition).encode()),
            ("dlq_original_offset", str(message.offset).encode()),
            ("dlq_consumer", self.name.encode()),
        ]
        out = OutgoingMessage(dlq_topic(message.topic), message.key, message.value or b"", headers)
        backoff = 0.5
        while True:
            try:
                await self.bus.publish([out])
                break
            except Exception:
                if self._stopping.is_set():
                    return False
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
        self.dead_lettered += 1
        EVENTS_PROCESSED.labels(self.name, event_type, "dead_lettered").inc()
        log.warning("consumer %s dead-lettered an event: %s", self.name, reason)
        return True

    def stop(self) -> None:
        self._stopping.set()
