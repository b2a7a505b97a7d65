"""The event-bus interface that the outbox relay and the consumers use."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class OutgoingMessage:
    topic: str
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]] = field(default_factory=list)


@dataclass(frozen=True)
class Message:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]


class BusConsumer(ABC):
    """A member of a consumer group. Offsets advance only on ``commit``."""

    @abstractmethod
    async def start(self) -> None: ...

    @abstractmethod
    async def stop(self) -> None: ...

    @abstractmethod
    async def poll(self, max_records: int, timeout: float) -> list[Message]:
        """Next messages after the last polled ones; empty after ``timeout`` seconds."""

    @abstractmethod
    async def commit(self) -> None:
        """Mark everything returned by ``poll`` so far as processed."""


class EventBus(ABC):
    @abstractmethod
    async def start(self) -> None: ...

    @abstractmethod
    async def stop(self) -> None: ...

    @abstractmethod
    async def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        """Publish and wait until every message is durably acknowledged; raise otherwise."""

    @abstractmethod
    def consumer(self, topics: Sequence[str], group: str) -> BusConsumer: ...

    @abstractmethod
    async def ready(self) -> bool: ...

    async def ensure_topics(self, topics: Sequence[str]) -> None:
        """Create topics that do not exist yet (no-op where topics need no creation)."""
        return None
