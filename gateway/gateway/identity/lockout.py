"""Failures counted per subject in the key-value store, and the lock they lead to: the
``max_failures``-th failure within ``failure_window_seconds`` locks the subject for
``lockout_seconds``. The lock's value is the time it ends (by ``clock``); the key's
expiry, ``expiry_margin`` past that, only cleans up."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from yiwang_platform.errors import ProblemError
from yiwang_platform.keyvalue import KeyValueStore


@dataclass
class Lockout:
    kv: KeyValueStore
    # Keys are ``<prefix>:failures:<who>`` and ``<prefix>:locked:<who>``.
    prefix: str
    max_failures: int
    failure_window_seconds: float
    lockout_seconds: float
    expiry_margin: float = 0
    clock: Callable[[], float] = time.time

    async def locked_until(self, who: str) -> float | None:
        """When the lock on ``who`` ends (by ``clock``); None when there is none."""
        until = await self.kv.get(f"{self.prefix}:locked:{who}")
        return None if until is None else float(until)

    async def failed(self, who: str) -> int:
        """Count a failure; the ``max_failures``-th within the window locks. The count."""
        failures = await self.kv.increment(
            f"{self.prefix}:failures:{who}", self.failure_window_seconds
        )
        if failures >= self.max_failures:
            until = self.clock() + self.lockout_seconds
            await self.kv.set(
                f"{self.prefix}:locked:{who}",
                str(until),
                ttl_seconds=self.lockout_seconds + self.expiry_margin,
            )
            await self.kv.delete(f"{self.prefix}:failures:{who}")
        return failures

    async def succeeded(self, who: str) -> None:
        await self.kv.delete(f"{self.prefix}:failures:{who}")


@dataclass(frozen=True)
class LockedOut:
    """How a lock refuses: ``status`` and ``code``, the titles (zh, en), and what there
    were too many of (for the detail)."""

    status: int
    code: str
    titles: tuple[str, str]
    failures: str

    def error(self, retry_after: int, **extra: Any) -> ProblemError:
        """Refused for ``retry_after`` more seconds (also as Retry-After)."""
        return ProblemError(
            self.status,
            self.code,
            self.titles[0],
            f"too many {self.failures}; try again in {retry_after} s",
            title_en=self.titles[1],
            headers={"Retry-After": str(retry_after)},
            **extra,
        )
