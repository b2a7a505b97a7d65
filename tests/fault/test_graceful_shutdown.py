"""SIGTERM, as Kubernetes sends it, to services under load: every request the service
answered is committed, nothing it committed stays unpublished, and a consumer stops
after committing what it applied, so exact counts hold before and after a restart."""

from __future__ import annotations

import asyncio
import signal

import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient

from tests.conftest import LocalPlatform
from tests.fault.test_faults import (
    CATALOGUE_ROWS,
    INTAKE_APPLIED,
    MATTERS_ROWS,
    UNPUBLISHED,
    counts_reach,
    intake_mid_backlog,
    matter,
    matters_and_intake,
    restarted_applies_each_once,
)
from tools.distributed import ServiceProcess

pytestmark = pytest.mark.fault


def assert_stopped_gracefully(process: ServiceProcess) -> None:
    # uvicorn re-raises SIGTERM once its shutdown has completed.
    assert process.process is not None and process.process.returncode == -signal.SIGTERM
    assert "Application shutdown complete" in process.log_path.read_text()


async def writer(platform: LocalPlatform, url: str, first: int, statuses: list[int]) -> None:
    """POST matters until the service stops taking connections. A fresh connection per
    request, so a refused connect means the server had stopped accepting."""
    headers = {"Authorization": "Bearer " + platform.token("matters")}
    limits = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30, limits=limits) as api:
        for i in range(first, first + 100_000):
            try:
                response = await api.post("/api/v1/matters/matters", json=matter(i))
            except httpx.TransportError:
                return
            statuses.append(response.status_code)


async def test_sigterm_under_load_loses_no_request_and_no_event(local_platform: LocalPlatform):
    matters, _intake = await matters_and_intake(local_platform)

    statuses: list[int] = []
    writers = [
        asyncio.create_task(writer(local_platform, matters.url(), n * 1_000_000, statuses))
        for n in range(4)
    ]
    await counts_reach(local_platform, "matters", MATTERS_ROWS, 150)
    await asyncio.to_thread(matters.kill, signal.SIGTERM)
    await asyncio.gather(*writers)

    assert_stopped_gracefully(matters)
    answered = len(statuses)
    assert set(statuses) == {201}, "an accepted request failed during shutdown"
    # Every answered request committed, nothing committed that was not answered...
    assert await local_platform.sql("matters", MATTERS_ROWS) == answered
    # ...and the relay flushed the outbox before the process ended.
    assert await local_platform.sql("matters", UNPUBLISHED) == 0
    await counts_reach(local_platform, "intake", INTAKE_APPLIED, answered)
    await asyncio.sleep(2)
    assert await local_platform.sql("intake", INTAKE_APPLIED) == answered
    assert await local_platform.sql("intake", CATALOGUE_ROWS) == answered


async def committed_offsets(platform: LocalPlatform, group: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=platform.kafka)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(platform.namespace + group)
    finally:
        await admin.close()
    return sum(meta.offset for meta in offsets.values() if meta.offset > 0)


async def test_sigterm_mid_stream_stops_the_consumer_after_its_commit(
    local_platform: LocalPlatform,
):
    total = 3000
    intake = await intake_mid_backlog(local_platform, "GS", total=total)
    await asyncio.to_thread(intake.kill, signal.SIGTERM)
    assert_stopped_gracefully(intake)

    applied = await local_platform.sql("intake", INTAKE_APPLIED)
    assert 0 < applied < total, "the stop must land mid-stream"
    # What it applied is exactly what it committed: nothing to redeliver, nothing skipped.
    assert await committed_offsets(local_platform, "intake") == applied

    await restarted_applies_each_once(local_platform, intake, total=total)
    assert await committed_offsets(local_platform, "intake") == total
