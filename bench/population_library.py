"""Population-library benchmark on the real stack: county ingest, then look-ups at scale.

1. Ingest: N population records (default 1 M) published on the county topic as a county
   system would (CloudEvents, keyed by source), one in ``BENCH_BAD_EVERY`` with a wrong
   GB 11643 check digit. data-exchange validates each (schema, checksum, birth date),
   encrypts the personal fields, upserts by source version into PostgreSQL with its
   inbox row and announces it through the outbox; the bad ones go to the dead-letter
   topic. Rate = records / (first publish to last effect); the dead letters must equal
   the bad records exactly.
2. Look-ups: with those people in the library, a citizen's scenario-scoped read of their
   own record (``GET /population/people/self``, two granted fields) at a fixed arrival
   rate (open loop: a slow answer does not slow the arrivals), each with its entry in
   the hash-chained access log. Latency is measured from the planned arrival time.

Baseline in the same run: bare Kafka produce+consume of messages of the same size.

    make bench-library                              # 1 M records, 200 req/s for 30 s
    BENCH_RECORDS=100000 BENCH_LOOKUP_RPS=200 make bench-library
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import aiohttp
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from stdnum.cn import ric

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import results  # noqa: E402
from bench.event_pipeline import kafka_baseline, percentile  # noqa: E402
from tools.distributed import LocalPlatform  # noqa: E402
from yiwang_platform.events import CloudEvent  # noqa: E402

RECORDS = int(os.environ.get("BENCH_RECORDS", "1000000"))
BAD_EVERY = int(os.environ.get("BENCH_BAD_EVERY", "1000"))
LOOKUP_RPS = int(os.environ.get("BENCH_LOOKUP_RPS", "200"))
LOOKUP_SECONDS = int(os.environ.get("BENCH_LOOKUP_SECONDS", "30"))
# The baseline's rate does not depend on the count; fewer messages keep the run short.
BASELINE_MESSAGES = min(RECORDS, 200_000)

TOPIC = "data-exchange.inbound.population.v1"
EVENT_TYPE = "gov.county.population.record.v1"
SOURCE = "330106-hukou"
# Region codes are checked as of the birth date: 330106 exists since well before 1990.
FIRST_BIRTH = date(1990, 1, 1)
SELF = "/api/v1/data-exchange/population/people/self"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"


def id_number(i: int) -> str:
    """Person ``i``'s synthetic ID number: a birth day and a sequence number of that day."""
    born = FIRST_BIRTH + timedelta(days=i // 1000)
    body = f"330106{born:%Y%m%d}{i % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def is_bad(i: int) -> bool:
    return i % BAD_EVERY == BAD_EVERY - 1


def record(i: int) -> dict[str, object]:
    number = id_number(i)
    if is_bad(i):  # a check digit off by one: the county system's typo
        digit = "0123456789X"[("0123456789X".index(number[-1]) + 1) % 11]
        number = number[:-1] + digit
    return {
        "source": SOURCE,
        "source_version": 1,
        "id_number": number,
        "name": SURNAMES[i % len(SURNAMES)] + "测试" + str(i % 97),
        "sex": "男" if int(number[16]) % 2 else "女",
        "ethnicity": "汉族",
        "birth_date": f"{number[6:10]}-{number[10:12]}-{number[12:14]}",
        "household_address": f"浙江省杭州市西湖区文三路{i % 500}号",
        "marital_status": "未婚",
        "household_number": f"33010600{i:08d}",
    }


async def publish_records(platform: LocalPlatform, count: int) -> tuple[float, int]:
    """Publish the county records; (seconds, bytes of one record)."""
    producer = AIOKafkaProducer(
        bootstrap_servers=platform.kafka,
        enable_idempotence=True,
        acks="all",
        linger_ms=20,
        max_batch_size=512 * 1024,
    )
    await producer.start()
    started = time.perf_counter()
    size = 0
    try:
        for i in range(count):
            event = CloudEvent(
                type=EVENT_TYPE, source="/county/330106", data=record(i), subject=SOURCE
            )
            value = event.value()
            size = len(value)
            await producer.send(
                platform.namespace + TOPIC,
                value,
                key=f"person-{i}".encode(),
                headers=event.headers(),
            )
        await producer.flush()
    finally:
        await producer.stop()
    return time.perf_counter() - started, size


async def dead_letters(platform: LocalPlatform) -> int:
    """Messages on the county topic's dead-letter topic (offsets: exact, nothing read)."""
    topic = platform.namespace + TOPIC + ".dlq"
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=platform.kafka, enable_auto_commit=False)
    await consumer.start()  # learns the topic's partitions
    try:
        numbers = consumer.partitions_for_topic(topic) or set()
        ends = await consumer.end_offsets([TopicPartition(topic, p) for p in numbers])
        return sum(ends.values())
    finally:
        await consumer.stop()


async def wait_ingested(platform: LocalPlatform, count: int, timeout: float = 3600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        applied = await platform.sql(
            "data-exchange", "SELECT count(*) FROM inbox WHERE consumer = 'data-exchange'"
        )
        dead = await dead_letters(platform)
        if applied + dead >= count:
            return
        print(f"  … {applied:,} applied, {dead:,} dead-lettered", flush=True)
        await asyncio.sleep(5)
    raise TimeoutError("data-exchange did not take in every record")


async def lookups(
    platform: LocalPlatform, url: str, *, rate: int, seconds: int, people: int
) -> list[float]:
    """Latencies (s) of ``rate * seconds`` reads of random people's own records, each
    started at its planned time."""
    signer = platform.keys.signer()
    picks = [i for i in random.Random(7).sample(range(people), rate * seconds) if not is_bad(i)]
    tokens = [
        signer.mint(
            "data-exchange",
            id_number(i),
            principal_type="citizen",
            ttl=3600,
            scn="citizen-self-lookup",
            grant={"population": ["name", "sex"]},
            bind="self",
            acr="L2",
        )
        for i in picks
    ]
    latencies: list[float] = []
    failures = 0

    async def one(api: aiohttp.ClientSession, token: str, planned: float) -> None:
        nonlocal failures
        await asyncio.sleep(max(0.0, planned - time.perf_counter()))
        async with api.get(url + SELF, headers={"Authorization": f"Bearer {token}"}) as response:
            await response.read()
            if response.status != 200:
                failures += 1
        latencies.append(time.perf_counter() - planned)

    connector = aiohttp.TCPConnector(limit=64)
    async with aiohttp.ClientSession(connector=connector) as api:
        # warm-up: connections and the first queries
        for token in tokens[:20]:
            async with api.get(url + SELF, headers={"Authorization": f"Bearer {token}"}) as r:
                await r.read()
        start = time.perf_counter() + 0.5
        await asyncio.gather(
            *(one(api, token, start + n / rate) for n, token in enumerate(tokens[20:]))
        )
    if failures:
        raise RuntimeError(f"{failures} look-ups did not answer 200")
    return latencies


async def main() -> None:
    stack = {
        "YIWANG_KAFKA_BOOTSTRAP": os.environ["YIWANG_KAFKA_BOOTSTRAP"],
        "YIWANG_POSTGRES_URL": os.environ["YIWANG_POSTGRES_URL"],
        "YIWANG_REDIS_URL": os.environ.get("YIWANG_REDIS_URL", ""),
    }
    bad = sum(1 for i in range(RECORDS) if is_bad(i))
    with tempfile.TemporaryDirectory() as tmp:
        platform = LocalPlatform(Path(tmp), stack)
        try:
            exchange = await platform.service("data-exchange", log_level="WARNING")
            exchange.start()
            exchange.wait_ready()

            started = time.perf_counter()
            publish_seconds, size = await publish_records(platform, RECORDS)
            await wait_ingested(platform, RECORDS)
            wall = time.perf_counter() - started
            span = await platform.sql(
                "data-exchange",
                "SELECT extract(epoch FROM max(processed_at) - min(processed_at)) FROM inbox",
            )
            stored = await platform.sql("data-exchange", "SELECT count(*) FROM population_records")
            dlq = await dead_letters(platform)
            before = await platform.sql("data-exchange", "SELECT count(*) FROM access_log")

            latencies = await lookups(
                platform,
                exchange.url(),
                rate=LOOKUP_RPS,
                seconds=LOOKUP_SECONDS,
                people=RECORDS,
            )
            logged = await platform.sql("data-exchange", "SELECT count(*) FROM access_log")
            baseline = await kafka_baseline(platform, BASELINE_MESSAGES, size)
        finally:
            await platform.close()

    rate = RECORDS / wall
    ms = [percentile(latencies, q) * 1000 for q in (0.5, 0.99)]
    lines = [
        f"population library benchmark: {RECORDS:,} county records, {os.cpu_count()} cores",
        f"  published on the bus in {publish_seconds:,.1f} s ({RECORDS / publish_seconds:,.0f} records/s)",
        f"  ingest, first publish to last effect: {rate:,.0f} records/s "
        f"(first to last inbox row: {float(span):,.1f} s)",
        f"  stored {stored:,} people; dead-lettered {dlq:,} of {bad:,} bad records "
        f"({'exact' if dlq == bad and stored == RECORDS - bad else 'MISMATCH'})",
        f"  baseline, bare Kafka produce+consume of {size}-byte messages: {baseline:,.0f} events/s"
        f" (ratio {rate / baseline:.3f})",
        f"  look-ups of one's own record at {LOOKUP_RPS} req/s for {LOOKUP_SECONDS} s among "
        f"{stored:,} people: p50 {ms[0]:.1f} ms, p99 {ms[1]:.1f} ms, max {max(latencies) * 1000:.1f} ms",
        f"  access-log entries written by the look-ups: {logged - before:,} "
        f"for {len(latencies) + 20:,} reads",
    ]
    print("\n".join(lines))
    results.save(
        "library",
        {
            "ingest_rps": rate,
            "kafka_eps": baseline,
            "dead_letters_exact": float(dlq == bad and stored == RECORDS - bad),
            "lookup_p50_ms": ms[0],
            "lookup_p99_ms": ms[1],
        },
    )


if __name__ == "__main__":
    asyncio.run(main())
