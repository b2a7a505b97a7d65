"""Both 一件事 journeys on the distributed stack: six processes on PostgreSQL, Kafka and
Redis, the gateway and intake reaching their peers over HTTP, events through Kafka."""

from __future__ import annotations

import httpx
import pytest

import gateway.settings
from tests.conftest import LocalPlatform
from tools import journeys

pytestmark = pytest.mark.face_model


async def test_both_bundles_on_the_distributed_stack(local_platform: LocalPlatform):
    sms_outbox = local_platform.tmp / "sms-outbox.jsonl"
    _, front = await local_platform.start_all(sms_outbox=str(sms_outbox))

    settings = gateway.settings.Settings(database_url=front.env["YIWANG_DATABASE_URL"])

    async with httpx.AsyncClient(base_url=front.url(), timeout=60) as api:
        platform = journeys.Platform.local(
            api,
            local_platform.keys.api_keys(),
            gateway_settings=settings,
            sms_outbox=sms_outbox,
        )
        birth = await journeys.birth(platform)
        company = await journeys.company(platform)

    assert (birth.case["status"], birth.case["outcome"]) == ("completed", "approved")
    assert sorted(x["license_type"] for x in birth.licenses) == [
        "birth-medical-certificate",
        "household-register",
        "social-security-card",
    ]
    assert birth.notes["presentation"]["tampered"]["valid"] is False
    assert birth.notes["timeline"]["status"] == "completed"
    assert (company.case["status"], company.case["outcome"]) == ("completed", "approved")
    assert [x["license_type"] for x in company.licenses] == ["business-license"]
    # Each event was applied once: supervision's timeline has one entry per case event.
    types = [e["event_type"] for e in company.notes["timeline"]["entries"]]
    assert types.count("gov.intake.case.accepted.v1") == 1
    assert types.count("gov.intake.case.completed.v1") == 1
