"""Rate limits per principal: per scenario from the policy's ``rate``, and a default
limit for everything else. Fixed one-minute windows counted in the key-value store
(Redis in the distributed run, so every gateway instance shares the count)."""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable, Iterable

from gateway.identity.principal import Principal
from gateway.routing.scenarios import Decision
from yiwang_platform.errors import ProblemError
from yiwang_platform.keyvalue import KeyValueStore

WINDOW_SECONDS = 60


class RateLimiter:
    def __init__(
        self,
        store: KeyValueStore,
        default_per_minute: int,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.default_per_minute = default_per_minute
        self.clock = clock

    async def check(self, principal: Principal, decision: Decision) -> None:
        """Count this request; ProblemError 429 with Retry-After once over the limit."""
        limit = decision.rate or self.default_per_minute
        if limit <= 0:
            return
        # Subjects may be ID numbers: keys hold a digest, never the identifier.
        who = hashlib.sha256(
            f"{principal.principal_type}:{principal.subject}".encode()
        ).hexdigest()[:32]
        scope = f"scenario {decision.scenario_name}" if decision.scenario_name else "default"
        await count_in_minute(
            self.store,
            [f"rate:{decision.scenario_name or '-'}:{who}"],
            limit=limit,
            now=self.clock(),
            detail=f"{scope} limit of {limit} requests per minute reached",
        )


async def count_in_minute(
    store: KeyValueStore, keys: Iterable[str], *, limit: int, now: float, detail: str
) -> None:
    """Count one request under each of ``keys`` in this minute's window; ProblemError 429
    with Retry-After at the first one over ``limit`` (none when ``limit`` is 0)."""
    window = int(now // WINDOW_SECONDS)
    for key in keys:
        count = await store.increment(f"{key}:{window}", WINDOW_SECONDS + 1)
        if limit > 0 and count > limit:
            retry_after = max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))
            raise ProblemError(
                429,
                "rate_limited",
                "请求过于频繁，请稍后再试",
                detail=detail,
                title_en="Too many requests",
                headers={"Retry-After": str(retry_after)},
                limit_per_minute=limit,
                retry_after_seconds=retry_after,
            )
