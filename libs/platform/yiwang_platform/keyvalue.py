"""Short-lived shared state (revocations, rate-limit windows, one-time challenges):
Redis in the distributed run, an in-memory stand-in in the standalone one."""

from __future__ import annotations

import asyncio
import time
from abc import ABC, abstractmethod

import redis.asyncio as redis_asyncio

from yiwang_platform.settings import ServiceSettings


class KeyValueStore(ABC):
    @abstractmethod
    async def get(self, key: str) -> str | None: ...

    @abstractmethod
    async def get_many(self, keys: list[str]) -> list[str | None]:
        """The values of ``keys`` in one round trip, None where absent."""

    @abstractmethod
    async def set(
        self, key: str, value: str, *, ttl_seconds: float, only_if_absent: bool = False
    ) -> bool:
        """Store with an expiry; with ``only_if_absent`` the first writer wins (returns False otherwise)."""

    @abstractmethod
    async def delete(self, key: str) -> None: ...

    @abstractmethod
    async def increment(self, key: str, ttl_seconds: float) -> int:
        """Add one; the expiry is set when the key is created (a fixed window)."""

    @abstractmethod
    async def ready(self) -> bool: ...

    @abstractmethod
    async def close(self) -> None: ...


class RedisStore(KeyValueStore):
    def __init__(self, url: str, prefix: str = "") -> None:
        self._redis = redis_asyncio.from_url(url, decode_responses=True, socket_timeout=5)
        self._prefix = prefix

    async def get(self, key: str) -> str | None:
        value = await self._redis.get(self._prefix + key)
        return None if value is None else str(value)

    async def get_many(self, keys: list[str]) -> list[str | None]:
        values = await self._redis.mget([self._prefix + key for key in keys])
        return [None if v is None else str(v) for v in values]

    async def set(
        self, key: str, value: str, *, ttl_seconds: float, only_if_absent: bool = False
    ) -> bool:
        done = await self._redis.set(
            self._prefix + key, value, px=max(1, int(ttl_seconds * 1000)), nx=only_if_absent
        )
        return bool(done)

    async def delete(self, key: str) -> None:
        await self._redis.delete(self._prefix + key)

    async def increment(self, key: str, ttl_seconds: float) -> int:
        name = self._prefix + key
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.pexpire(name, max(1, int(ttl_seconds * 1000)), nx=True)
            count, _ = await pipe.execute()
        return int(count)

    async def ready(self) -> bool:
        try:
            return bool(await asyncio.wait_for(self._redis.ping(), 3))
        except Exception:
            return False

    async def close(self) -> None:
        await self._redis.aclose()


class MemoryStore(KeyValueStore):
    """One process only: the standalone run and tests that need no shared state."""

    def __init__(self) -> None:
        self._values: dict[str, tuple[str, float]] = {}

    def _live(self, key: str) -> str | None:
        entry = self._values.get(key)
        if entry is None:
            return None
        if entry[1] <= time.monotonic():
            del self._values[key]
            return None
        return entry[0]

    async def get(self, key: str) -> str | None:
        return self._live(key)

    async def get_many(self, keys: list[str]) -> list[str | None]:
        return [self._live(key) for key in keys]

    async def set(
        self, key: str, value: str, *, ttl_seconds: float, only_if_absent: bool = False
    ) -> bool:
        if only_if_absent and self._live(key) is not None:
            return False
        self._values[key] = (value, time.monotonic() + ttl_seconds)
        return True

    async def delete(self, key: str) -> None:
        self._values.pop(key, None)

    async def increment(self, key: str, ttl_seconds: float) -> int:
        current = self._live(key)
        if current is None:
            self._values[key] = ("1", time.monotonic() + ttl_seconds)
            return 1
        count = int(current) + 1
        self._values[key] = (str(count), self._values[key][1])
        return count

    async def ready(self) -> bool:
        return True

    async def close(self) -> None:
        self._values.clear()


def create_store(settings: ServiceSettings, prefix: str = "") -> KeyValueStore:
    if settings.redis_url:
        return RedisStore(settings.redis_url, prefix or f"yiwang:{settings.service_name}:")
    return MemoryStore()
