"""Event-pipeline benchmark on the real stack.

N domain writes (POST a matter to the matters service) -> transactional outbox ->
relay -> Kafka -> intake's consumer applies each event (inbox + catalogue row).
Both services run as separate uvicorn processes on PostgreSQL and Kafka, as in
the distributed run. End-to-end lag of one event = intake's inbox ``processed_at``
minus matters' outbox ``created_at`` (same clock: one machine).

Baseline in the same run: the same number of messages of the same size produced
(idempotent, acks=all) and consumed through Kafka with aiokafka and nothing else,
so the ratio shows what the outbox, the databases and the services cost.

    make bench                      # N=5000 writes, 16 concurrent writers
    BENCH_EVENTS=20000 make bench
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import results  # noqa: E402
from tools.distributed import LocalPlatform  # noqa: E402

EVENTS = int(os.environ.get("BENCH_EVENTS", "5000"))
WRITERS = int(os.environ.get("BENCH_WRITERS", "16"))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def write_matters(platform: LocalPlatform, url: str, count: int, prefix: str = "BM") -> float:
    # aiohttp as the load client: httpx costs more CPU per request than the service under test.
    headers = {"Authorization": "Bearer " + platform.token("matters")}
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(count):
        queue.put_nowait(i)

    async def writer(api: aiohttp.ClientSession) -> None:
        while not queue.empty():
            i = queue.get_nowait()
            body = {
                "code": f"BM{i:010d}",
                "name": f"基准事项{i}",
                "kind": "公共服务",
                "department": "市政务服务管理局",
                "promised_days": 5,
            }
            async with api.post(f"{url}/api/v1/matters/matters", json=body) as response:
                response.raise_for_status()

    started = time.perf_counter()
    connector = aiohttp.TCPConnector(limit=WRITERS)
    async with aiohttp.ClientSession(headers=headers, connector=connector) as api:
        await asyncio.gather(*(writer(api) for _ in range(WRITERS)))
    return time.perf_counter() - started


async def wait_applied(platform: LocalPlatform, count: int, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (
            await platform.sql("intake", "SELECT count(*) FROM inbox WHERE consumer = 'intake'")
            >= count
        ):
            return
        await asyncio.sleep(0.5)
    raise TimeoutError("consumer did not apply every event")


async def pipeline_lags(
    platform: LocalPlatform, since: str = "created_at"
) -> tuple[list[float], float]:
    """Per-event lag (s) and the span from first write (or first publication) to last effect (s)."""

    async def rows(service: str, query: str) -> dict[str, float]:
        url = platform.postgres.replace("postgresql+asyncpg", "postgresql").rsplit("/", 1)[0]
        conn = await asyncpg.connect(f"{url}/{platform.database(service)}")
        try:
            return {r[0]: r[1].timestamp() for r in await conn.fetch(query)}
        finally:
            await conn.close()

    created = await rows("matters", f"SELECT event_id, {since} FROM outbox")
    applied = await rows(
        "intake", "SELECT event_id, processed_at FROM inbox WHERE consumer = 'intake'"
    )
    lags = [applied[e] - created[e] for e in created]
    return lags, max(applied.values()) - min(created.values())


async def kafka_baseline(platform: LocalPlatform, count: int, size: int) -> float:
    """Events/s for produce (idempotent, acks=all) + consume of ``count`` plain messages."""
    topic = platform.namespace + "bench.baseline"
    payload = b"x" * size
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=platform.kafka,
        group_id=platform.namespace + "baseline",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    producer = AIOKafkaProducer(
        bootstrap_servers=platform.kafka, enable_idempotence=True, acks="all", linger_ms=5
    )
    await producer.start()
    await producer.send_and_wait(topic, b"warm-up")
    await consumer.start()
    started = time.perf_counter()
    received = -1  # the warm-up message
    try:
        for i in range(count):
            await producer.send(topic, payload, key=str(i).encode())
        await producer.flush()
        while received < count:
            batch = await consumer.getmany(timeout_ms=1000)
            received += sum(len(r) for r in batch.values())
            await consumer.commit()
    finally:
        await producer.stop()
        await consumer.stop()
    return count / (time.perf_counter() - started)


async def main() -> None:
    stack = {
        "YIWANG_KAFKA_BOOTSTRAP": os.environ["YIWANG_KAFKA_BOOTSTRAP"],
        "YIWANG_POSTGRES_URL": os.environ["YIWANG_POSTGRES_URL"],
        "YIWANG_REDIS_URL": os.environ.get("YIWANG_REDIS_URL", ""),
    }
    with tempfile.TemporaryDirectory() as tmp:
        platform = LocalPlatform(Path(tmp), stack)
        try:
            matters = await platform.service("matters", log_level="WARNING")
            intake = await platform.service("intake", log_level="WARNING")
            for process in (matters, intake):
                process.start()
            for process in (matters, intake):
                process.wait_ready()

            # Steady state: writes at full speed while the relay and the consumer keep up.
            write_seconds = await write_matters(platform, matters.url(), EVENTS)
            await wait_applied(platform, EVENTS)
            lags, span = await pipeline_lags(platform)

            # Drain: a backlog of committed events, then the relay switched on.
            matters.stop()
            matters.env["YIWANG_OUTBOX_RELAY_ENABLED"] = "false"
            matters.start()
            matters.wait_ready()
            await write_matters(platform, matters.url(), EVENTS, prefix="BN")
            matters.stop()
            await platform.sql("matters", "DELETE FROM outbox WHERE published_at IS NOT NULL")
            await platform.sql("intake", "DELETE FROM inbox")
            matters.env["YIWANG_OUTBOX_RELAY_ENABLED"] = "true"
            matters.start()
            await wait_applied(platform, EVENTS)
            _, drain_span = await pipeline_lags(platform, since="published_at")
            sample = await platform.sql("matters", "SELECT payload FROM outbox ORDER BY id LIMIT 1")
            size = len(sample.encode())
            baseline = await kafka_baseline(platform, EVENTS, size)
        finally:
            await platform.close()

    pipeline_rate = EVENTS / span
    drain_rate = EVENTS / drain_span
    ms = [percentile(lags, q) * 1000 for q in (0.5, 0.99)]
    lines = [
        f"event pipeline benchmark: {EVENTS} events, {WRITERS} concurrent writers, {os.cpu_count()} cores",
        f"  domain writes (HTTP POST: row + outbox in one transaction): {EVENTS / write_seconds:,.0f} writes/s",
        f"  steady pipeline, first write to last effect: {pipeline_rate:,.0f} events/s",
        f"  end-to-end lag p50 / p99 / max: {ms[0]:,.0f} / {ms[1]:,.0f} / {max(lags) * 1000:,.0f} ms",
        f"  drain of a {EVENTS}-event backlog, first publish to last effect: {drain_rate:,.0f} events/s",
        f"  baseline, bare Kafka produce+consume of {size}-byte messages: {baseline:,.0f} events/s",
        f"  ratios to baseline: steady {pipeline_rate / baseline:.3f}, drain {drain_rate / baseline:.3f}",
    ]
    print("\n".join(lines))
    results.save(
        "events",
        {
            "steady_eps": pipeline_rate,
            "drain_eps": drain_rate,
            "lag_p99_ms": ms[1],
            "kafka_eps": baseline,
        },
    )


if __name__ == "__main__":
    asyncio.run(main())
