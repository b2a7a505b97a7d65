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
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from opentelemetry import context as otel_context
from prometheus_client import Counter
from pydantic import ValidationError
from sqlalchemy import Table, delete, select
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, ProgrammingError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yiwang_platform import tracing
from yiwang_platform.bus.base import BusConsumer, EventBus, Message, OutgoingMessage
from yiwang_platform.events.contract import ConsumedEvent
from yiwang_platform.events.envelope import CloudEvent, EnvelopeError
from yiwang_platform.events.schemas import EventSchemas, SchemaViolation
from yiwang_platform.masking import mask

if TYPE_CHECKING:
    from yiwang_platform.outbox import Outbox
    from yiwang_platform.peers import PeerClient
    from yiwang_platform.pii import PiiCipher
    from yiwang_platform.settings import ServiceSettings

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class HandlerContext:
    """What a handler works with: the batch's session (its effect commits with the inbox
    row), the service's one outbox, its PII cipher, peers and settings, and the time."""

    session: AsyncSession
    outbox: Outbox
    settings: ServiceSettings
    now: datetime
    envelope: CloudEvent
    cipher: PiiCipher | None = None
    peers: Mapping[str, PeerClient] | None = None
    collaborators: object | None = None

    def require_cipher(self) -> PiiCipher:
        if self.cipher is None:
            raise RuntimeError("this service was built without a PII cipher")
        return self.cipher

    def collaborators_as(self, cls: type[T]) -> T:
        """The service's own collaborators (``ServiceSpec.collaborators``), typed."""
        if not isinstance(self.collaborators, cls):
            raise RuntimeError(f"this service's collaborators are not {cls.__name__}")
        return self.collaborators


# One ``on_<fact>(ctx, event)`` per consumed event type, keyed by the event's model.
EventHandler = Callable[[HandlerContext, Any], Awaitable[None]]
Handlers = Mapping[type[ConsumedEvent], EventHandler]
ContextFactory = Callable[[AsyncSession, CloudEvent], HandlerContext]


class Delivery(NamedTuple):
    """One event of a run handed to a batch handler: its envelope and its typed data."""

    envelope: CloudEvent
    event: Any


# Optional, beside a type's ``on_<fact>``: the same effect for a run of consecutive events
# of that type, set-based (one multi-row statement instead of one per event). ``ctx``'s
# envelope is the run's first; each delivery carries its own. It may answer the events it
# refuses, by position in the run, with the reason (they are dead-lettered, the rest
# applied); None refuses none. When it raises, the run is applied again event by event
# through the ``on_<fact>`` handler, so a bad event is refused alone.
Refusals = Mapping[int, str]
BatchHandler = Callable[[HandlerContext, list[Delivery]], Awaitable[Refusals | None]]
BatchHandlers = Mapping[type[ConsumedEvent], BatchHandler]


class _Route(NamedTuple):
    topic: str
    model: type[ConsumedEvent]
    handler: EventHandler
    batch_handler: BatchHandler | None = None


EVENTS_PROCESSED = Counter(
    "yiwang_events_processed_total", "Events consumed", ["consumer", "event_type", "outcome"]
)


class RejectEvent(Exception):
    """Raised by a handler for an event that can never be applied (goes to the DLQ)."""


def event_time(value: Any, field: str) -> datetime:
    """A timestamp from an event's data. The schema checks the format; the zone is
    checked here (RFC 3339 requires one): an event without it can never apply."""
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError) as exc:
        raise RejectEvent(f"{field} is not an RFC 3339 timestamp") from exc
    if parsed.tzinfo is None:
        raise RejectEvent(f"{field} has no time zone")
    return parsed


def dlq_topic(topic: str) -> str:
    return f"{topic}.dlq"


async def purge_inbox(
    factory: async_sessionmaker[AsyncSession], inbox: Table, *, before: datetime
) -> int:
    """Forget events processed before ``before`` (older than any redelivery); how many."""
    async with factory() as session, session.begin():
        result = await session.execute(delete(inbox).where(inbox.c.processed_at < before))
    return int(getattr(result, "rowcount", 0) or 0)


class _Ready(NamedTuple):
    message: Message
    event: CloudEvent
    data: ConsumedEvent
    handler: EventHandler


def _runs(items: list[_Ready], routes: Mapping[str, _Route]) -> list[list[_Ready]]:
    """``items`` cut into runs, in order: consecutive events of one type that has a batch
    handler together, every other event alone (so no event overtakes another)."""
    runs: list[list[_Ready]] = []
    for item in items:
        batched = routes[item.event.type].batch_handler is not None
        if batched and runs and runs[-1][0].event.type == item.event.type:
            runs[-1].append(item)
        else:
            runs.append([item])
    return runs


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"]) or "data"
    return f"{where}: {error['msg']}"


class EventConsumer:
    def __init__(
        self,
        name: str,
        handlers: Handlers,
        *,
        context: ContextFactory,
        factory: async_sessionmaker[AsyncSession],
        bus: EventBus,
        schemas: EventSchemas,
        inbox: Table,
        batch_handlers: BatchHandlers | None = None,
        batch_size: int = 200,
        max_attempts: int = 3,
    ) -> None:
        """``handlers`` maps each consumed event's model to its handler (and
        ``batch_handlers`` some to a set-based one); ``name`` is the consumer group;
        ``context`` builds a handler's context for one event."""
        self.name = name
        batched = batch_handlers or {}
        self.routes = {
            model.event_type: _Route(model.topic, model, handler, batched.get(model))
            for model, handler in handlers.items()
        }
        self.topics = sorted({route.topic for route in self.routes.values()})
        self.context = context
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
            if not await self._process_batch(batch):
                return  # stopping mid-retry: leave the batch uncommitted for redelivery
            await consumer.commit()

    async def _process_batch(self, batch: list[Message]) -> bool:
        """Apply a polled batch in one transaction and dead-letter what cannot apply.

        False only when stopping before the batch was handled."""
        unusable: list[tuple[Message, str, str]] = []
        ready: list[_Ready] = []
        for message in batch:
            try:
                event = CloudEvent.from_message(message.headers, message.value)
            except EnvelopeError as exc:
                unusable.append((message, f"envelope: {exc}", "?"))
                continue
            route = self.routes.get(event.type)
            if route is None:
                continue  # another consumer's event on a shared topic
            try:
                self.schemas.validate(event.type, event.data)
                data = route.model.model_validate(event.data)
            except SchemaViolation as exc:
                unusable.append((message, f"schema: {exc}", event.type))
                continue
            except ValidationError as exc:
                unusable.append((message, f"schema: {_first_error(exc)}", event.type))
                continue
            ready.append(_Ready(message, event, data, route.handler))

        refused = await self._apply_with_retries(ready) if ready else []
        if refused is None:
            return False
        return await self._dead_letter(unusable + refused)

    async def _apply_with_retries(
        self, ready: list[_Ready]
    ) -> list[tuple[Message, str, str]] | None:
        """Retry the whole batch while the database is unreachable; None if stopping."""
        backoff = 0.2
        while True:
            try:
                return await self._apply(ready)
            except (IntegrityError, DataError, ProgrammingError):
                raise  # raised outside a savepoint: a bug, not an outage
            except (DBAPIError, OSError) as exc:
                log.warning(
                    "consumer %s: database unavailable (%s), retrying",
                    self.name,
                    type(exc).__name__,
                )
            if self._stopping.is_set():
                return None
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 10.0)

    async def _apply(self, ready: list[_Ready]) -> list[tuple[Message, str, str]]:
        """One transaction for the batch: each run of consecutive events of a type with a
        batch handler in one savepoint, every other event in its own; returns the refused
        events."""
        inbox = self.inbox
        refused: list[tuple[Message, str, str]] = []
        outcomes: list[tuple[str, str]] = []
        async with self.factory() as session, session.begin():
            ids = [item.event.id for item in ready]
            seen = set(
                await session.scalars(
                    select(inbox.c.event_id).where(
                        inbox.c.consumer == self.name, inbox.c.event_id.in_(ids)
                    )
                )
            )
            fresh: list[_Ready] = []
            for item in ready:
                if item.event.id in seen:
                    outcomes.append((item.event.type, "duplicate"))
                    continue
                seen.add(item.event.id)
                fresh.append(item)
            for run in _runs(fresh, self.routes):
                run_refused = await self._apply_run(session, run) if len(run) > 1 else None
                if run_refused is not None:
                    for position, item in enumerate(run):
                        reason = run_refused.get(position)
                        if reason is None:
                            outcomes.append((item.event.type, "applied"))
                        else:
                            refused.append((item.message, f"rejected: {reason}", item.event.type))
                    continue
                for item in run:
                    reason = await self._apply_one(session, item)
                    if reason is None:
                        outcomes.append((item.event.type, "applied"))
                    else:
                        refused.append((item.message, reason, item.event.type))
        for event_type, outcome in outcomes:
            EVENTS_PROCESSED.labels(self.name, event_type, outcome).inc()
        self.applied += sum(1 for _, outcome in outcomes if outcome == "applied")
        return refused

    async def _apply_run(self, session: AsyncSession, run: list[_Ready]) -> Refusals | None:
        """A run of one type through its batch handler, with the inbox rows of the events
        it applied in one statement, in one savepoint: the events it refused, or None
        (nothing kept) when it failed."""
        batch_handler = self.routes[run[0].event.type].batch_handler
        assert batch_handler is not None
        now = datetime.now(UTC)
        try:
            async with session.begin_nested():
                refused = await batch_handler(
                    self.context(session, run[0].event),
                    [Delivery(item.event, item.data) for item in run],
                )
                refused = refused or {}
                rows = [
                    {
                        "consumer": self.name,
                        "event_id": item.event.id,
                        "event_type": item.event.type,
                        "processed_at": now,
                    }
                    for position, item in enumerate(run)
                    if position not in refused
                ]
                if rows:
                    await session.execute(self.inbox.insert(), rows)
            return refused
        except (IntegrityError, DataError, ProgrammingError, RejectEvent):
            pass  # one of them is bad: each alone finds which
        except (DBAPIError, OSError):
            raise  # outage: the whole batch is retried
        except Exception as exc:
            log.warning(
                "consumer %s: batch handler failed (%s), applying one by one",
                self.name,
                type(exc).__name__,
            )
        return None

    async def _apply_one(self, session: AsyncSession, item: _Ready) -> str | None:
        """Apply one event inside a savepoint; the reason it was refused, or None."""
        event = item.event
        ctx = tracing.extract({"traceparent": event.traceparent} if event.traceparent else {})
        token = otel_context.attach(ctx)
        try:
            for attempt in range(1, self.max_attempts + 1):
                try:
                    async with session.begin_nested():
                        await session.execute(
                            self.inbox.insert().values(
                                consumer=self.name,
                                event_id=event.id,
                                event_type=event.type,
                                processed_at=datetime.now(UTC),
                            )
                        )
                        await item.handler(self.context(session, event), item.data)
                    return None
                except RejectEvent as exc:
                    return f"rejected: {exc}"
                except (IntegrityError, DataError, ProgrammingError) as exc:
                    return f"database: {type(exc.orig).__name__}"
                except (DBAPIError, OSError):
                    raise  # outage: the whole batch is retried
                except Exception as exc:
                    if attempt == self.max_attempts:
                        return f"handler: {type(exc).__name__}: {exc}"
                    log.warning(
                        "consumer %s: handler failed (%s), retrying", self.name, type(exc).__name__
                    )
            return None  # not reached: the loop returns on its last attempt
        finally:
            otel_context.detach(token)

    async def _dead_letter(self, refused: list[tuple[Message, str, str]]) -> bool:
        """Publish the refused events to their dead-letter topics, in one go, with the
        reason; False if stopping before the broker took them."""
        if not refused:
            return True
        out = []
        for message, reason, _ in refused:
            reason = mask(reason)[:1000]
            headers = [h for h in message.headers if not h[0].startswith("dlq_")]
            headers += [
                ("dlq_reason", reason.encode()),
                ("dlq_original_topic", message.topic.encode()),
                ("dlq_original_partition", str(message.partition).encode()),
                ("dlq_original_offset", str(message.offset).encode()),
                ("dlq_consumer", self.name.encode()),
            ]
            out.append(
                OutgoingMessage(
                    dlq_topic(message.topic), message.key, message.value or b"", headers
                )
            )
        backoff = 0.5
        while True:
            try:
                await self.bus.publish(out)
                break
            except Exception:
                if self._stopping.is_set():
                    return False
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
        self.dead_lettered += len(refused)
        for _, reason, event_type in refused:
            EVENTS_PROCESSED.labels(self.name, event_type, "dead_lettered").inc()
            log.warning("consumer %s dead-lettered an event: %s", self.name, mask(reason)[:1000])
        return True

    def stop(self) -> None:
        self._stopping.set()
