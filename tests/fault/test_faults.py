"""Faults on the real stack, each with exact counts: services killed with SIGKILL,
Kafka stopped mid-stream, and an event that fails its schema.

The matters service publishes ``gov.matters.matter.published.v1``; intake applies
each one to its local catalogue. An event applied twice would show as an extra
inbox row or a failed unique constraint; one lost would leave a count short.
"""

from __future__ import annotations

import asyncio
import signal
import time

import httpx
import pytest

from tests.conftest import LocalPlatform, kafka_script, matter_event
from tools.distributed import ServiceProcess
from yiwang_platform.testing import eventually

pytestmark = pytest.mark.fault

INTAKE_APPLIED = "SELECT count(*) FROM inbox WHERE consumer = 'intake' AND event_type = 'gov.matters.matter.published.v1'"
CATALOGUE_ROWS = "SELECT count(*) FROM matter_versions"
MATTERS_ROWS = "SELECT count(*) FROM matters"
UNPUBLISHED = "SELECT count(*) FROM outbox WHERE published_at IS NULL"


def matter(i: int) -> dict[str, object]:
    return {
        "code": f"FT{i:08d}",
        "name": f"故障测试事项{i}",
        "kind": "公共服务",
        "department": "市政务服务管理局",
        "promised_days": 3,
    }


async def publish_matters(
    platform: LocalPlatform, url: str, numbers: range, stop: asyncio.Event | None = None
) -> int:
    """POST matters one at a time until ``stop`` is set or the service goes away;
    returns how many the service answered 201 to. Stopping between requests (never
    cancelling one in flight) keeps the committed count exact."""
    headers = {"Authorization": "Bearer " + platform.token("matters")}
    created = 0
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=10) as api:
        for i in numbers:
            if stop is not None and stop.is_set():
                break
            try:
                response = await api.post("/api/v1/matters/matters", json=matter(i))
            except httpx.TransportError:
                break
            assert response.status_code == 201, response.text
            created += 1
    return created


async def counts_reach(
    platform: LocalPlatform, service: str, query: str, expected: int, timeout: float = 90
) -> None:
    async def reached() -> bool:
        return await platform.sql(service, query) >= expected

    await eventually(reached, timeout=timeout, interval=0.3)


async def matters_and_intake(platform: LocalPlatform) -> tuple[ServiceProcess, ServiceProcess]:
    """Matters and intake, started and ready."""
    matters = await platform.service("matters")
    intake = await platform.service("intake")
    matters.start()
    intake.start()
    matters.wait_ready()
    intake.wait_ready()
    return matters, intake


async def intake_mid_backlog(platform: LocalPlatform, prefix: str, *, total: int) -> ServiceProcess:
    """Intake started on a backlog of ``total`` matter events, once it has applied 200."""
    await platform.produce(
        "matters.matter.v1", [matter_event(f"{prefix}{i:08d}") for i in range(total)]
    )
    intake = await platform.service("intake")
    intake.start()
    intake.wait_ready()
    await counts_reach(platform, "intake", INTAKE_APPLIED, 200)
    return intake


async def restarted_applies_each_once(
    platform: LocalPlatform, intake: ServiceProcess, *, total: int
) -> None:
    """Intake started again applies every one of ``total`` events, and none twice."""
    intake.start()
    intake.wait_ready()
    await counts_reach(platform, "intake", INTAKE_APPLIED, total)
    await asyncio.sleep(2)  # time for a redelivered duplicate to show, were there one
    assert await platform.sql("intake", INTAKE_APPLIED) == total
    assert await platform.sql("intake", CATALOGUE_ROWS) == total


async def test_service_killed_after_commit_before_publish_delivers_once(
    local_platform: LocalPlatform,
):
    matters = await local_platform.service("matters", outbox_relay_enabled="false")
    intake = await local_platform.service("intake")
    matters.start()
    intake.start()
    matters.wait_ready()
    intake.wait_ready()

    assert await publish_matters(local_platform, matters.url(), range(40)) == 40
    assert await local_platform.sql("matters", UNPUBLISHED) == 40
    matters.kill(signal.SIGKILL)  # committed, never published

    matters.env["YIWANG_OUTBOX_RELAY_ENABLED"] = "true"
    matters.start()
    matters.wait_ready()
    await counts_reach(local_platform, "intake", INTAKE_APPLIED, 40)
    await asyncio.sleep(2)  # time for any duplicate to arrive
    assert await local_platform.sql("intake", INTAKE_APPLIED) == 40
    assert await local_platform.sql("intake", CATALOGUE_ROWS) == 40
    assert await local_platform.sql("matters", UNPUBLISHED) == 0


async def test_service_killed_while_relaying_loses_nothing_and_applies_once(
    local_platform: LocalPlatform,
):
    matters, _intake = await matters_and_intake(local_platform)

    writer = asyncio.create_task(publish_matters(local_platform, matters.url(), range(100_000)))
    await counts_reach(local_platform, "matters", MATTERS_ROWS, 150)
    matters.kill(signal.SIGKILL)
    await writer
    committed = await local_platform.sql("matters", MATTERS_ROWS)

    matters.start()
    matters.wait_ready()
    await counts_reach(local_platform, "intake", INTAKE_APPLIED, committed)
    await asyncio.sleep(2)
    assert await local_platform.sql("intake", INTAKE_APPLIED) == committed
    assert await local_platform.sql("intake", CATALOGUE_ROWS) == committed


async def test_consumer_killed_mid_batch_applies_every_event_once(local_platform: LocalPlatform):
    total = 3000
    intake = await intake_mid_backlog(local_platform, "MB", total=total)
    intake.kill(signal.SIGKILL)
    applied_before_kill = await local_platform.sql("intake", INTAKE_APPLIED)
    assert 0 < applied_before_kill < total, "the kill must land mid-stream"

    await restarted_applies_each_once(local_platform, intake, total=total)


async def test_kafka_restarted_while_producing_loses_nothing(local_platform: LocalPlatform):
    matters, _intake = await matters_and_intake(local_platform)

    stop_writing = asyncio.Event()
    writer = asyncio.create_task(
        publish_matters(local_platform, matters.url(), range(100_000), stop_writing)
    )
    await counts_reach(local_platform, "matters", MATTERS_ROWS, 50)
    await asyncio.to_thread(kafka_script, "stop")
    down_since = time.monotonic()
    await asyncio.sleep(3)  # writes go on while the broker is down
    during_outage = await local_platform.sql("matters", MATTERS_ROWS)
    await asyncio.to_thread(kafka_script, "start")
    assert time.monotonic() - down_since > 3
    await asyncio.sleep(2)
    stop_writing.set()
    created = await writer
    committed = await local_platform.sql("matters", MATTERS_ROWS)
    assert committed == created
    assert committed > during_outage > 50

    await counts_reach(local_platform, "intake", INTAKE_APPLIED, committed, timeout=180)
    await asyncio.sleep(2)
    assert await local_platform.sql("intake", INTAKE_APPLIED) == committed
    assert await local_platform.sql("intake", CATALOGUE_ROWS) == committed
    await counts_reach(
        local_platform,
        "matters",
        "SELECT count(*) FROM outbox WHERE published_at IS NOT NULL",
        committed,
    )


async def test_event_failing_its_schema_is_dead_lettered_and_the_next_applied(
    local_platform: LocalPlatform,
):
    key, bad = matter_event("BAD00001")
    bad.data.pop("promised_days")
    await local_platform.produce("matters.matter.v1", [(key, bad), matter_event("GOOD0001")])
    intake = await local_platform.service("intake")
    intake.start()
    intake.wait_ready()

    await counts_reach(local_platform, "intake", INTAKE_APPLIED, 1)
    dead = await local_platform.read_topic("matters.matter.v1.dlq", expected=1)
    assert len(dead) == 1
    headers = dict(dead[0].headers)
    assert dead[0].key == b"BAD00001"
    assert headers["ce_id"].decode() == bad.id
    assert headers["dlq_reason"].decode().startswith("schema:")
    assert "promised_days" in headers["dlq_reason"].decode()
    assert headers["dlq_consumer"] == b"intake"
    await asyncio.sleep(1)
    assert await local_platform.sql("intake", INTAKE_APPLIED) == 1
    assert (
        await local_platform.sql(
            "intake", "SELECT count(*) FROM matter_versions WHERE code = 'GOOD0001'"
        )
        == 1
    )
