"""InProcessBus: ordered logs per topic, consumer groups and committed offsets."""

from __future__ import annotations

import asyncio

from yiwang_platform.bus import OutgoingMessage
from yiwang_platform.bus.inprocess import InProcessBus


def outgoing(topic: str, n: int) -> OutgoingMessage:
    return OutgoingMessage(
        topic, f"key-{n}".encode(), f"value-{n}".encode(), [("n", str(n).encode())]
    )


async def started(bus: InProcessBus, topics: list[str], group: str):
    consumer = bus.consumer(topics, group)
    await consumer.start()
    return consumer


async def test_consumer_polls_published_messages_in_order() -> None:
    bus = InProcessBus()
    await bus.publish([outgoing("orders", n) for n in range(5)])
    consumer = await started(bus, ["orders"], "g1")

    batch = await consumer.poll(100, timeout=0.1)

    assert [m.value for m in batch] == [f"value-{n}".encode() for n in range(5)]
    assert [m.key for m in batch] == [f"key-{n}".encode() for n in range(5)]
    assert [m.offset for m in batch] == [0, 1, 2, 3, 4]
    assert {(m.topic, m.partition) for m in batch} == {("orders", 0)}
    assert batch[3].headers == [("n", b"3")]


async def test_poll_continues_after_the_last_polled_message() -> None:
    bus = InProcessBus()
    await bus.publish([outgoing("orders", n) for n in range(5)])
    consumer = await started(bus, ["orders"], "g1")

    first = await consumer.poll(2, timeout=0.1)
    second = await consumer.poll(2, timeout=0.1)
    third = await consumer.poll(2, timeout=0.1)

    assert [m.offset for m in first] == [0, 1]
    assert [m.offset for m in second] == [2, 3]
    assert [m.offset for m in third] == [4]


async def test_poll_returns_nothing_after_the_timeout() -> None:
    bus = InProcessBus()
    consumer = await started(bus, ["orders"], "g1")
    loop = asyncio.get_running_loop()

    started_at = loop.time()
    batch = await consumer.poll(10, timeout=0.2)

    assert batch == []
    assert loop.time() - started_at >= 0.15


async def test_poll_returns_nothing_once_everything_was_polled() -> None:
    bus = InProcessBus()
    await bus.publish([outgoing("orders", 0)])
    consumer = await started(bus, ["orders"], "g1")

    assert len(await consumer.poll(10, timeout=0.1)) == 1
    assert await consumer.poll(10, timeout=0.05) == []


async def test_waiting_poll_wakes_up_on_publish() -> None:
    bus = InProcessBus()
    consumer = await started(bus, ["orders"], "g1")

    waiting = asyncio.create_task(consumer.poll(10, timeout=30))
    await asyncio.sleep(0.05)
    assert not waiting.done()
    await bus.publish([outgoing("orders", 1)])
    batch = await asyncio.wait_for(waiting, timeout=5)

    assert [m.value for m in batch] == [b"value-1"]


async def test_uncommitted_messages_are_redelivered_to_the_next_group_member() -> None:
    bus = InProcessBus()
    await bus.publish([outgoing("orders", n) for n in range(5)])

    first = await started(bus, ["orders"], "g1")
    assert [m.offset for m in await first.poll(3, timeout=0.1)] == [0, 1, 2]
    await first.commit()
    assert [m.offset for m in await first.poll(10, timeout=0.1)] == [3, 4]
    await first.stop()

    second = await started(bus, ["orders"], "g1")
    redelivered = await second.poll(10, timeout=0.1)

    assert [m.offset for m in redelivered] == [3, 4]
    assert [m.value for m in redelivered] == [b"value-3", b"value-4"]


async def test_committed_messages_are_not_redelivered() -> None:
    bus = InProcessBus()
    await bus.publish([outgoing("orders", n) for n in range(3)])

    first = await started(bus, ["orders"], "g1")
    await first.poll(10, timeout=0.1)
    await first.commit()
    await first.stop()
    second = await started(bus, ["orders"], "g1")

    assert await second.poll(10, timeout=0.05) == []
    await bus.publish([outgoing("orders", 3)])
    assert [m.offset for m in await second.poll(10, timeout=0.1)] == [3]


async def test_consumer_without_commit_restarts_from_the_beginning() -> None:
    bus = InProcessBus()
    await bus.publish([outgoing("orders", n) for n in range(3)])

    first = await started(bus, ["orders"], "g1")
    await first.poll(10, timeout=0.1)
    await first.stop()
    second = await started(bus, ["orders"], "g1")

    assert [m.offset for m in await second.poll(10, timeout=0.1)] == [0, 1, 2]


async def test_two_groups_each_see_every_message() -> None:
    bus = InProcessBus()
    await bus.publish([outgoing("orders", n) for n in range(3)])
    one = await started(bus, ["orders"], "group-one")
    two = await started(bus, ["orders"], "group-two")

    from_one = await one.poll(10, timeout=0.1)
    await one.commit()
    from_two = await two.poll(10, timeout=0.1)

    assert [m.value for m in from_one] == [b"value-0", b"value-1", b"value-2"]
    assert [m.value for m in from_two] == [b"value-0", b"value-1", b"value-2"]


async def test_commit_of_one_group_does_not_move_another() -> None:
    bus = InProcessBus()
    await bus.publish([outgoing("orders", n) for n in range(2)])
    one = await started(bus, ["orders"], "group-one")
    await one.poll(10, timeout=0.1)
    await one.commit()

    late = await started(bus, ["orders"], "group-two")

    assert [m.offset for m in await late.poll(10, timeout=0.1)] == [0, 1]


async def test_consumer_of_several_topics_gets_each_topics_messages() -> None:
    bus = InProcessBus()
    await bus.publish([outgoing("a", 0), outgoing("b", 0), outgoing("a", 1)])
    consumer = await started(bus, ["a", "b"], "g1")

    batch = await consumer.poll(10, timeout=0.1)

    assert [(m.topic, m.offset, m.value) for m in batch] == [
        ("a", 0, b"value-0"),
        ("a", 1, b"value-1"),
        ("b", 0, b"value-0"),
    ]


async def test_consumer_does_not_see_other_topics() -> None:
    bus = InProcessBus()
    await bus.publish([outgoing("other", 0)])
    consumer = await started(bus, ["orders"], "g1")

    assert await consumer.poll(10, timeout=0.05) == []


async def test_messages_lists_a_topic_log_as_a_copy() -> None:
    bus = InProcessBus()
    await bus.publish([outgoing("orders", 0), outgoing("orders", 1)])

    listed = bus.messages("orders")
    listed.clear()

    assert [m.offset for m in bus.messages("orders")] == [0, 1]
    assert bus.messages("empty") == []
    assert await bus.ready() is True
