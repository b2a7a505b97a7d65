"""Outbox, relay and consumer end to end on SQLite and the in-process bus."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from pydantic import AwareDatetime, Field
from sqlalchemy import String, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from yiwang_platform import tracing
from yiwang_platform.bus import OutgoingMessage
from yiwang_platform.bus.inprocess import InProcessBus
from yiwang_platform.consumer import (
    Delivery,
    EventConsumer,
    HandlerContext,
    RejectEvent,
    dlq_topic,
)
from yiwang_platform.db import create_engine, session_factory
from yiwang_platform.events import CloudEvent, ConsumedEvent, EventData, EventSchemas
from yiwang_platform.outbox import Outbox, OutboxRelay, inbox_table, outbox_table
from yiwang_platform.settings import ServiceSettings
from yiwang_platform.testing import eventually

ID_NUMBER = "110101199003071234"
WAIT = 10.0


class Base(DeclarativeBase):
    pass


class Effect(Base):
    __tablename__ = "effects"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(100))
    value: Mapped[str] = mapped_column(String(200))


OUTBOX = outbox_table(Base.metadata)
INBOX = inbox_table(Base.metadata)


class ThingHappened(EventData):
    event_type = "gov.test.thing.happened.v1"
    topic = "test.thing.v1"

    value: str
    happened_at: datetime


class ThingHappenedIn(ConsumedEvent):
    """The consumer's copy of the fields it reads."""

    event_type = ThingHappened.event_type
    topic = ThingHappened.topic

    value: str = Field(max_length=40)
    happened_at: AwareDatetime


SCHEMAS = EventSchemas({ThingHappened.event_type: ThingHappened.contract_schema()})
TOPIC = ThingHappened.topic
DLQ = dlq_topic(TOPIC)


def thing(value: str) -> ThingHappened:
    return ThingHappened(value=value, happened_at=datetime(2024, 1, 15, 8, 30, tzinfo=UTC))


def raw_event(value: object = "ok", **data: object) -> CloudEvent:
    payload = {"value": value, "happened_at": "2024-01-15T08:30:00+00:00", **data}
    return CloudEvent(type=ThingHappened.event_type, source="/test", data=payload)


def as_message(ce: CloudEvent, key: str = "k") -> OutgoingMessage:
    return OutgoingMessage(TOPIC, key.encode(), ce.value(), ce.headers())


@pytest.fixture
async def sessions(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'test.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    yield session_factory(engine)
    await engine.dispose()


@pytest.fixture
def bus() -> InProcessBus:
    return InProcessBus()


@pytest.fixture
def outbox() -> Outbox:
    return Outbox(OUTBOX, source="/yiwang/test")


async def count(sessions: async_sessionmaker[AsyncSession], table) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(table)) or 0)


async def has_effects(sessions: async_sessionmaker[AsyncSession], n: int) -> bool:
    return await count(sessions, Effect.__table__) >= n


async def dlq_has(bus: InProcessBus, n: int) -> bool:
    return len(bus.messages(DLQ)) >= n


async def effect_values(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
    async with sessions() as session:
        return list(await session.scalars(select(Effect.value).order_by(Effect.id)))


class RecordingHandler:
    """Records the effect of an event; the value decides how it misbehaves first."""

    def __init__(self) -> None:
        self.attempts: Counter[str] = Counter()
        self.trace_ids: list[str | None] = []

    async def __call__(self, ctx: HandlerContext, event: ThingHappenedIn) -> None:
        value = event.value
        self.attempts[value] += 1
        self.trace_ids.append(tracing.current_trace_id())
        # The effect is written before any failure, so a failure must roll it back.
        await ctx.session.execute(insert(Effect).values(event_id=ctx.envelope.id, value=value))
        if value.startswith("reject"):
            raise RejectEvent(f"no matter for applicant 13812345678 ({value})")
        if value == "always-fails":
            raise RuntimeError(f"lookup failed for {ID_NUMBER}")
        if value == "fails-once" and self.attempts[value] == 1:
            raise RuntimeError("transient")


class RecordingBatchHandler:
    """The set-based form: all effects of a run in one statement, refused whole when one
    value is to be rejected (the consumer then applies the run one by one)."""

    def __init__(self) -> None:
        self.runs: list[list[str]] = []

    async def __call__(self, ctx: HandlerContext, deliveries: list[Delivery]) -> None:
        values = [d.event.value for d in deliveries]
        self.runs.append(values)
        await ctx.session.execute(
            insert(Effect),
            [{"event_id": d.envelope.id, "value": d.event.value} for d in deliveries],
        )
        if any(v.startswith("reject") for v in values):
            raise RejectEvent("one of the run is refused")


def make_consumer(
    sessions: async_sessionmaker[AsyncSession],
    bus: InProcessBus,
    handler: RecordingHandler,
    name: str | None = None,
    batch_handler: RecordingBatchHandler | None = None,
) -> EventConsumer:
    outbox = Outbox(OUTBOX, source="/yiwang/test")
    settings = ServiceSettings()

    def context(session: AsyncSession, event: CloudEvent) -> HandlerContext:
        return HandlerContext(
            session=session,
            outbox=outbox,
            settings=settings,
            now=datetime.now(UTC),
            envelope=event,
        )

    return EventConsumer(
        name or f"test-{uuid.uuid4().hex[:8]}",
        {ThingHappenedIn: handler},
        context=context,
        factory=sessions,
        bus=bus,
        schemas=SCHEMAS,
        inbox=INBOX,
        batch_handlers={ThingHappenedIn: batch_handler} if batch_handler else None,
        batch_size=50,
        max_attempts=3,
    )


@contextlib.asynccontextmanager
async def running(consumer: EventConsumer) -> AsyncIterator[EventConsumer]:
    task = asyncio.create_task(consumer.run())
    try:
        yield consumer
    finally:
        consumer.stop()
        await asyncio.wait_for(task, WAIT)


async def assert_caught_up(bus: InProcessBus, consumer: EventConsumer) -> None:
    """The consumer's group committed every message of the topic."""
    member = bus.consumer([TOPIC], consumer.name)
    await member.start()
    assert await member.poll(100, timeout=0.05) == []


def processed(consumer: EventConsumer, outcome: str) -> float:
    value = REGISTRY.get_sample_value(
        "yiwang_events_processed_total",
        {"consumer": consumer.name, "event_type": ThingHappened.event_type, "outcome": outcome},
    )
    return value or 0.0


# ---- outbox and relay ---------------------------------------------------------------------


async def test_relay_publishes_committed_events_with_their_envelope(
    sessions, bus: InProcessBus, outbox: Outbox
) -> None:
    async with sessions() as session, session.begin():
        first = await outbox.add(session, thing("a"), key="k-1")
        second = await outbox.add(session, thing("b"), key="k-2", subject="s-2")
    relay = OutboxRelay(outbox, sessions, bus, batch_size=10)

    assert await relay.relay_once() == 2
    assert await relay.relay_once() == 0

    messages = bus.messages(TOPIC)
    assert relay.published == 2
    assert [m.key for m in messages] == [b"k-1", b"k-2"]
    assert [json.loads(m.value or b"") for m in messages] == [
        {"value": "a", "happened_at": "2024-01-15T08:30:00Z"},
        {"value": "b", "happened_at": "2024-01-15T08:30:00Z"},
    ]
    headers = dict(messages[0].headers)
    assert headers["ce_type"] == b"gov.test.thing.happened.v1"
    assert headers["ce_id"] == first.id.encode()
    assert headers["ce_source"] == b"/yiwang/test"
    assert headers["ce_subject"] == b"k-1"
    assert headers["ce_dataschema"] == b"urn:yiwang:events:gov.test.thing.happened.v1"
    assert dict(messages[1].headers)["ce_subject"] == b"s-2"
    assert CloudEvent.from_message(messages[0].headers, messages[0].value) == first
    assert CloudEvent.from_message(messages[1].headers, messages[1].value) == second


async def test_relay_marks_rows_published(sessions, bus: InProcessBus, outbox: Outbox) -> None:
    async with sessions() as session, session.begin():
        ce = await outbox.add(session, thing("a"), key="k-1")
    before = datetime.now(UTC)

    await OutboxRelay(outbox, sessions, bus).relay_once()

    async with sessions() as session:
        row = (await session.execute(select(OUTBOX))).one()
    assert row.event_id == ce.id
    assert row.topic == TOPIC
    assert row.message_key == "k-1"
    assert row.attempts == 1
    assert row.published_at is not None
    assert before <= row.published_at <= datetime.now(UTC)


async def test_no_traceparent_without_an_active_span(
    sessions, bus: InProcessBus, outbox: Outbox
) -> None:
    async with sessions() as session, session.begin():
        await outbox.add(session, thing("a"), key="k-1")
    await OutboxRelay(outbox, sessions, bus).relay_once()

    assert "traceparent" not in dict(bus.messages(TOPIC)[0].headers)


async def test_traceparent_of_the_active_span_travels_with_the_event(
    sessions, bus: InProcessBus, outbox: Outbox
) -> None:
    tracing.configure("test")
    with tracing.tracer("test").start_as_current_span("submit") as span:
        async with sessions() as session, session.begin():
            await outbox.add(session, thing("a"), key="k-1")
        ctx = span.get_span_context()
    await OutboxRelay(outbox, sessions, bus).relay_once()

    headers = dict(bus.messages(TOPIC)[0].headers)
    assert headers["traceparent"] == (
        f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-{ctx.trace_flags:02x}".encode()
    )


async def test_rolled_back_events_are_never_published(
    sessions, bus: InProcessBus, outbox: Outbox
) -> None:
    with pytest.raises(RuntimeError, match="abort"):
        async with sessions() as session, session.begin():
            await outbox.add(session, thing("a"), key="k-1")
            raise RuntimeError("abort")

    assert await OutboxRelay(outbox, sessions, bus).relay_once() == 0
    assert await count(sessions, OUTBOX) == 0
    assert bus.messages(TOPIC) == []


async def test_relay_publishes_in_batches_in_order(
    sessions, bus: InProcessBus, outbox: Outbox
) -> None:
    async with sessions() as session, session.begin():
        for value in ["a", "b", "c"]:
            await outbox.add(session, thing(value), key=value)
    relay = OutboxRelay(outbox, sessions, bus, batch_size=2)

    assert [await relay.relay_once() for _ in range(3)] == [2, 1, 0]
    assert [m.key for m in bus.messages(TOPIC)] == [b"a", b"b", b"c"]


async def test_commit_with_outbox_rows_wakes_the_relay(sessions, outbox: Outbox) -> None:
    outbox.bind(sessions)

    async with sessions() as session, session.begin():
        await outbox.add(session, thing("a"), key="k-1")

    await asyncio.wait_for(outbox.wait_for_work(timeout=30), timeout=5)


async def test_running_relay_publishes_new_events_until_stopped(
    sessions, bus: InProcessBus, outbox: Outbox
) -> None:
    outbox.bind(sessions)
    relay = OutboxRelay(outbox, sessions, bus, poll_interval=30)
    task = asyncio.create_task(relay.run())
    try:
        async with sessions() as session, session.begin():
            await outbox.add(session, thing("a"), key="k-1")

        async def published() -> bool:
            return len(bus.messages(TOPIC)) == 1

        await eventually(published, timeout=WAIT, interval=0.02)
    finally:
        relay.stop()
        await asyncio.wait_for(task, WAIT)
    assert relay.published == 1


# ---- consumer -----------------------------------------------------------------------------


async def test_events_from_the_outbox_are_applied_once(
    sessions, bus: InProcessBus, outbox: Outbox
) -> None:
    tracing.configure("test")
    with tracing.tracer("test").start_as_current_span("submit") as span:
        async with sessions() as session, session.begin():
            first = await outbox.add(session, thing("a"), key="k-1")
            second = await outbox.add(session, thing("b"), key="k-2")
        trace_id = f"{span.get_span_context().trace_id:032x}"
    assert await OutboxRelay(outbox, sessions, bus).relay_once() == 2
    handler = RecordingHandler()
    consumer = make_consumer(sessions, bus, handler)

    async with running(consumer):
        await eventually(lambda: has_effects(sessions, 2), timeout=WAIT, interval=0.02)

    async with sessions() as session:
        effects = (await session.execute(select(Effect.event_id, Effect.value))).all()
        inbox = (await session.execute(select(INBOX.c.consumer, INBOX.c.event_id))).all()
    assert sorted(effects) == sorted([(first.id, "a"), (second.id, "b")])
    assert sorted(inbox) == sorted([(consumer.name, first.id), (consumer.name, second.id)])
    assert consumer.applied == 2
    assert consumer.dead_lettered == 0
    assert handler.trace_ids == [trace_id, trace_id]
    assert bus.messages(DLQ) == []
    assert processed(consumer, "applied") == 2
    await assert_caught_up(bus, consumer)


async def test_the_same_message_twice_is_applied_once(sessions, bus: InProcessBus) -> None:
    ce = raw_event("once")
    handler = RecordingHandler()
    consumer = make_consumer(sessions, bus, handler)
    await bus.publish([as_message(ce), as_message(ce)])

    async with running(consumer):
        await eventually(lambda: has_effects(sessions, 1), timeout=WAIT, interval=0.02)
        # Delivered again in a later batch, followed by a marker to wait for.
        await bus.publish([as_message(ce), as_message(raw_event("marker"))])
        await eventually(lambda: has_effects(sessions, 2), timeout=WAIT, interval=0.02)

    assert await effect_values(sessions) == ["once", "marker"]
    assert await count(sessions, INBOX) == 2
    assert handler.attempts == Counter({"once": 1, "marker": 1})
    assert consumer.applied == 2
    assert processed(consumer, "duplicate") == 2
    assert bus.messages(DLQ) == []
    await assert_caught_up(bus, consumer)


async def test_rejected_event_goes_to_the_dlq_and_the_next_is_applied(
    sessions, bus: InProcessBus
) -> None:
    rejected = raw_event("reject-me")
    following = raw_event("after")
    handler = RecordingHandler()
    consumer = make_consumer(sessions, bus, handler)
    await bus.publish([as_message(rejected, key="r"), as_message(following)])

    async with running(consumer):
        await eventually(lambda: dlq_has(bus, 1), timeout=WAIT, interval=0.02)

    assert await effect_values(sessions) == ["after"]
    assert await count(sessions, INBOX) == 1
    [dead] = bus.messages(DLQ)
    headers = dict(dead.headers)
    assert headers["dlq_reason"] == b"rejected: no matter for applicant 138****5678 (reject-me)"
    assert headers["dlq_original_topic"] == TOPIC.encode()
    assert headers["dlq_original_partition"] == b"0"
    assert headers["dlq_original_offset"] == b"0"
    assert headers["dlq_consumer"] == consumer.name.encode()
    assert headers["ce_id"] == rejected.id.encode()
    assert dead.key == b"r"
    assert dead.value == rejected.value()
    assert handler.attempts["reject-me"] == 1
    assert (consumer.applied, consumer.dead_lettered) == (1, 1)
    await assert_caught_up(bus, consumer)


async def test_events_failing_their_schema_go_to_the_dlq(sessions, bus: InProcessBus) -> None:
    handler = RecordingHandler()
    consumer = make_consumer(sessions, bus, handler)
    bad_events = [
        raw_event("dated", happened_at="2024-01-15"),
        raw_event(int(ID_NUMBER)),
        CloudEvent(type=ThingHappened.event_type, source="/test", data={"value": "x"}),
        raw_event("extra", id_number=ID_NUMBER),
    ]
    await bus.publish([as_message(ce) for ce in bad_events] + [as_message(raw_event("good"))])

    async with running(consumer):
        await eventually(lambda: dlq_has(bus, 4), timeout=WAIT, interval=0.02)

    reasons = [dict(m.headers)["dlq_reason"].decode() for m in bus.messages(DLQ)]
    assert reasons == [
        "schema: happened_at: violates format",
        "schema: value: violates type",
        "schema: (root): 'happened_at' is a required property",
        "schema: (root): Additional properties are not allowed ('id_number' was unexpected)",
    ]
    assert [dict(m.headers)["ce_id"] for m in bus.messages(DLQ)] == [
        ce.id.encode() for ce in bad_events
    ]
    assert await effect_values(sessions) == ["good"]
    assert handler.attempts == Counter({"good": 1})
    assert (consumer.applied, consumer.dead_lettered) == (1, 4)
    await assert_caught_up(bus, consumer)


async def test_events_the_consumers_model_refuses_go_to_the_dlq(
    sessions, bus: InProcessBus
) -> None:
    # The contract lets any string through; the consumer's model takes at most 40
    # characters, and says where it refused.
    handler = RecordingHandler()
    consumer = make_consumer(sessions, bus, handler)
    await bus.publish([as_message(raw_event("x" * 41)), as_message(raw_event("good"))])

    async with running(consumer):
        await eventually(lambda: dlq_has(bus, 1), timeout=WAIT, interval=0.02)
        await eventually(lambda: has_effects(sessions, 1), timeout=WAIT, interval=0.02)

    reasons = [dict(m.headers)["dlq_reason"].decode() for m in bus.messages(DLQ)]
    assert reasons == ["schema: value: String should have at most 40 characters"]
    assert await effect_values(sessions) == ["good"]
    assert (consumer.applied, consumer.dead_lettered) == (1, 1)


async def test_message_that_is_not_a_cloudevent_goes_to_the_dlq(
    sessions, bus: InProcessBus
) -> None:
    consumer = make_consumer(sessions, bus, RecordingHandler())
    headers = [h for h in raw_event().headers() if h[0] != "ce_id"]
    await bus.publish(
        [
            OutgoingMessage(TOPIC, b"k", b"{}", headers),
            OutgoingMessage(TOPIC, b"k", b"not json", raw_event().headers()),
            as_message(raw_event("good")),
        ]
    )

    async with running(consumer):
        await eventually(lambda: dlq_has(bus, 2), timeout=WAIT, interval=0.02)

    reasons = [dict(m.headers)["dlq_reason"] for m in bus.messages(DLQ)]
    assert reasons == [b"envelope: ce_id missing", b"envelope: data is not JSON"]
    assert await effect_values(sessions) == ["good"]
    await assert_caught_up(bus, consumer)


async def test_events_of_other_types_on_the_topic_are_skipped(sessions, bus: InProcessBus) -> None:
    handler = RecordingHandler()
    consumer = make_consumer(sessions, bus, handler)
    other = CloudEvent(type="gov.test.other.v1", source="/test", data={"value": "other"})
    await bus.publish([as_message(other), as_message(raw_event("mine"))])

    async with running(consumer):
        await eventually(lambda: has_effects(sessions, 1), timeout=WAIT, interval=0.02)

    assert await effect_values(sessions) == ["mine"]
    assert await count(sessions, INBOX) == 1
    assert bus.messages(DLQ) == []
    await assert_caught_up(bus, consumer)


async def test_handler_failing_every_attempt_goes_to_the_dlq(sessions, bus: InProcessBus) -> None:
    handler = RecordingHandler()
    consumer = make_consumer(sessions, bus, handler)
    failing = raw_event("always-fails")
    await bus.publish([as_message(failing), as_message(raw_event("after"))])

    async with running(consumer):
        await eventually(lambda: dlq_has(bus, 1), timeout=WAIT, interval=0.02)

    [dead] = bus.messages(DLQ)
    assert dict(dead.headers)["dlq_reason"] == (
        b"handler: RuntimeError: lookup failed for 110101********4"
    )
    assert dict(dead.headers)["ce_id"] == failing.id.encode()
    assert handler.attempts["always-fails"] == 3
    assert await effect_values(sessions) == ["after"]
    assert await count(sessions, INBOX) == 1
    assert (consumer.applied, consumer.dead_lettered) == (1, 1)
    await assert_caught_up(bus, consumer)


async def test_handler_failing_only_the_first_attempt_is_applied_once(
    sessions, bus: InProcessBus
) -> None:
    handler = RecordingHandler()
    consumer = make_consumer(sessions, bus, handler)
    flaky = raw_event("fails-once")
    await bus.publish([as_message(flaky), as_message(raw_event("after"))])

    async with running(consumer):
        await eventually(lambda: has_effects(sessions, 2), timeout=WAIT, interval=0.02)

    async with sessions() as session:
        effects = (await session.execute(select(Effect.event_id, Effect.value))).all()
    assert effects.count((flaky.id, "fails-once")) == 1
    assert sorted(v for _, v in effects) == ["after", "fails-once"]
    assert handler.attempts == Counter({"fails-once": 2, "after": 1})
    assert await count(sessions, INBOX) == 2
    assert bus.messages(DLQ) == []
    assert (consumer.applied, consumer.dead_lettered) == (2, 0)
    await assert_caught_up(bus, consumer)


async def test_stopped_consumer_resumes_after_its_last_commit(sessions, bus: InProcessBus) -> None:
    handler = RecordingHandler()
    consumer = make_consumer(sessions, bus, handler)
    await bus.publish([as_message(raw_event("first"))])
    async with running(consumer):
        await eventually(lambda: has_effects(sessions, 1), timeout=WAIT, interval=0.02)

    await bus.publish([as_message(raw_event("second"))])
    restarted = make_consumer(sessions, bus, handler, name=consumer.name)
    async with running(restarted):
        await eventually(lambda: has_effects(sessions, 2), timeout=WAIT, interval=0.02)

    assert await effect_values(sessions) == ["first", "second"]
    assert handler.attempts == Counter({"first": 1, "second": 1})
    assert restarted.applied == 1


async def test_a_run_of_events_is_applied_by_the_batch_handler_at_once(
    sessions, bus: InProcessBus
) -> None:
    events = [raw_event(f"v{i}") for i in range(5)]
    handler, batch = RecordingHandler(), RecordingBatchHandler()
    consumer = make_consumer(sessions, bus, handler, batch_handler=batch)
    await bus.publish([as_message(e) for e in events])

    async with running(consumer):
        await eventually(lambda: has_effects(sessions, 5), timeout=WAIT, interval=0.02)
        await eventually(lambda: _applied(consumer, 5), timeout=WAIT, interval=0.02)

    assert batch.runs == [[f"v{i}" for i in range(5)]]
    assert not handler.attempts  # nothing went event by event
    assert await effect_values(sessions) == [f"v{i}" for i in range(5)]
    assert await count(sessions, INBOX) == 5
    await assert_caught_up(bus, consumer)


async def test_a_run_with_a_bad_event_is_applied_one_by_one_and_only_that_one_is_refused(
    sessions, bus: InProcessBus
) -> None:
    events = [raw_event("a"), raw_event("reject-me"), raw_event("c")]
    handler, batch = RecordingHandler(), RecordingBatchHandler()
    consumer = make_consumer(sessions, bus, handler, batch_handler=batch)
    await bus.publish([as_message(e) for e in events])

    async with running(consumer):
        await eventually(lambda: dlq_has(bus, 1), timeout=WAIT, interval=0.02)

    assert batch.runs == [["a", "reject-me", "c"]]
    # The failed run left nothing; each event then went alone.
    assert await effect_values(sessions) == ["a", "c"]
    assert await count(sessions, INBOX) == 2
    assert (consumer.applied, consumer.dead_lettered) == (2, 1)
    [dead] = bus.messages(DLQ)
    assert dict(dead.headers)["ce_id"] == events[1].id.encode()


async def test_a_redelivered_run_is_applied_once(sessions, bus: InProcessBus) -> None:
    events = [raw_event(f"v{i}") for i in range(3)]
    first = make_consumer(sessions, bus, RecordingHandler(), batch_handler=RecordingBatchHandler())
    await bus.publish([as_message(e) for e in events])
    async with running(first):
        await eventually(lambda: _applied(first, 3), timeout=WAIT, interval=0.02)
    # The same events again (a relay republishing after a crash), then a new one.
    await bus.publish([as_message(e) for e in [*events, raw_event("after")]])
    again = make_consumer(
        sessions, bus, RecordingHandler(), name=first.name, batch_handler=RecordingBatchHandler()
    )

    async with running(again):
        await eventually(lambda: _applied(again, 1), timeout=WAIT, interval=0.02)

    assert await effect_values(sessions) == ["v0", "v1", "v2", "after"]
    assert processed(again, "duplicate") == 3


async def _applied(consumer: EventConsumer, n: int) -> bool:
    return consumer.applied >= n
