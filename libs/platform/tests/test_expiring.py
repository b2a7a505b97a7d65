from yiwang_platform.expiring import ExpiringCache


def test_an_entry_holds_until_its_own_time_and_a_full_cache_starts_afresh() -> None:
    cache: ExpiringCache[str, int] = ExpiringCache(2)
    cache.put("a", 1, until=10.0)
    cache.put("b", 2, until=20.0)

    assert cache.get("a", now=9.9) == 1
    assert cache.get("a", now=10.0) is None
    assert cache.get("b", now=15.0) == 2
    assert cache.get("missing", now=0.0) is None

    cache.put("c", 3, until=30.0)  # full: the old entries go
    assert cache.get("b", now=15.0) is None
    assert cache.get("c", now=15.0) == 3
