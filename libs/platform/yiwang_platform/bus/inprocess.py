"""In-process bus for the standalone run: one append-only log per topic,
consumer groups with committed offsets, redelivery of uncommitted messages."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence

from yiwang_platform.bus.base import BusConsumer, EventBus, Message, OutgoingMessage


class InProcessBus(EventBus):
    def __init__(self) -> None:
        self._logs: dict[str, list[Message]] = defaultdict(list)
        self._committed: dict[tuple[str, str], int] = defaultdict(int)  # (group, topic) -> next
        self._changed = asyncio.Condition()

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def ready(self) -> bool:
        return True

    async def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        async with self._changed:
            for m in messages:
                log = self._logs[m.topic]
                log.append(Message(m.topic, 0, len(log), m.key, m.value, list(m.headers)))
            self._changed.notify_all()

    def consumer(self, topics: Sequence[str], group: str) -> BusConsumer:
        return _InProcessConsumer(self, list(topics), group)

    def messages(self, topic: str) -> list[Message]:
        return list(self._logs[topic])


class _InProcessConsumer(BusConsumer):
    def __init__(self, bus: InProcessBus, topics: list[str], group: str) -> None:
        self._bus = bus
        self._topics = topics
        self._group = group
        self._position: dict[str, int] = {}

    async def start(self) -> None:
        # Like a Kafka group member: resume from the group's committed offset.
        self._position = {t: self._bus._committed[(self._group, t)] for t in self._topics}

    async def stop(self) -> None:
        return None

    def _pending(self, max_records: int) -> list[Message]:
        out: list[Message] = []
        for topic in self._topics:
            log = self._bus._logs[topic]
            start = self._position[topic]
            out.extend(log[start : start + max_records - len(out)])
            if len(out) >= max_records:
                break
        return out

    async def poll(self, max_records: int, timeout: float) -> list[Message]:
        async with self._bus._changed:
            batch = self._pending(max_records)
            if not batch:
                try:
                    await asyncio.wait_for(self._bus._changed.wait(), timeout)
                except TimeoutError:
                    return []
                batch = self._pending(max_records)
        for m in batch:
            self._position[m.topic] = m.offset + 1
        return batch

    async def commit(self) -> None:
        for topic, position in self._position.items():
            self._bus._committed[(self._group, topic)] = position
