"""The key-value store on real Redis and on the in-memory stand-in: same behaviour."""

from __future__ import annotations

import asyncio

import pytest

from yiwang_platform.keyvalue import KeyValueStore


@pytest.fixture
def store(kv_store: KeyValueStore) -> KeyValueStore:
    """The root conftest's store: in memory, and on real Redis in a namespace of its own."""
    return kv_store


async def test_set_get_expire_and_delete(store):
    assert await store.ready() is True
    assert await store.get("a") is None
    assert await store.set("a", "1", ttl_seconds=0.3) is True
    assert await store.get("a") == "1"
    await asyncio.sleep(0.45)
    assert await store.get("a") is None
    await store.set("b", "2", ttl_seconds=30)
    await store.delete("b")
    assert await store.get("b") is None


async def test_only_if_absent_lets_the_first_writer_win(store):
    assert await store.set("challenge", "first", ttl_seconds=30, only_if_absent=True) is True
    assert await store.set("challenge", "second", ttl_seconds=30, only_if_absent=True) is False
    assert await store.get("challenge") == "first"


async def test_increment_counts_within_a_fixed_window(store):
    counts = [await store.increment("window", ttl_seconds=0.4) for _ in range(3)]
    assert counts == [1, 2, 3]
    await asyncio.sleep(0.55)
    assert await store.increment("window", ttl_seconds=0.4) == 1


async def test_get_many_answers_each_key_in_order_none_where_absent(store):
    await store.set("revoked", "1", ttl_seconds=30)
    await store.set("face", "until", ttl_seconds=30)

    assert await store.get_many(["face", "missing", "revoked"]) == ["until", None, "1"]
