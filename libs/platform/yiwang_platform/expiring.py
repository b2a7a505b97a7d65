"""A small per-process memo whose entries each hold until a time of their own: what a
check or a signature produced, kept for the requests that repeat it."""

from __future__ import annotations

from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class ExpiringCache(Generic[K, V]):
    """At most ``size`` entries; when full it starts afresh (simpler than LRU and enough
    for tokens, which a caller repeats within seconds)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: dict[K, tuple[float, V]] = {}

    def get(self, key: K, *, now: float) -> V | None:
        """The value kept for ``key`` while ``now`` is before its time, else None."""
        entry = self._entries.get(key)
        if entry is None or now >= entry[0]:
            return None
        return entry[1]

    def put(self, key: K, value: V, *, until: float) -> None:
        if len(self._entries) >= self.size:
            self._entries.clear()
        self._entries[key] = (until, value)
