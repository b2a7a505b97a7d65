"""Reading what was published onto a topic, on either backend."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable

import pytest
from aiokafka import AIOKafkaConsumer

from yiwang_platform.bus import Message

TopicReader = Callable[[str, int], Awaitable[list[Message]]]


@pytest.fixture
def read_topic(backend) -> TopicReader:
    """``await read_topic(topic, expected)``: every message on the topic once at least
    ``expected`` arrived, plus any extra that shows up within a second (so callers can
    assert exact counts)."""

    async def read(topic: str, expected: int, timeout: float = 60.0) -> list[Message]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        if backend.shared_bus is not None:
            while len(backend.shared_bus.messages(topic)) < expected:
                if loop.time() > deadline:
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)
            return backend.shared_bus.messages(topic)

        consumer = AIOKafkaConsumer(
            backend.namespace + topic,
            bootstrap_servers=os.environ["YIWANG_TEST_KAFKA"],
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        out: list[Message] = []
        try:
            settle_until = None
            while loop.time() < deadline and (settle_until is None or loop.time() < settle_until):
                batches = await consumer.getmany(timeout_ms=300)
                for records in batches.values():
                    out.extend(
                        Message(topic, r.partition, r.offset, r.key, r.value, list(r.headers or []))
                        for r in records
                    )
                if settle_until is None and len(out) >= expected:
                    settle_until = loop.time() + 1.0
        finally:
            await consumer.stop()
        return out

    return read
