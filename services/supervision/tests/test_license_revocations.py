"""Revoked licenses in supervision: on the timeline of the case (and sub-case) that
yielded them, counted either way; repeated or unlinked revocations never fail."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from supervision import handlers, metrics
from supervision.events import LicenseRevokedIn
from supervision.models import SubcaseWatch, TimelineEntry
from yiwang_platform.events import CloudEvent
from yiwang_platform.testing import eventually

REVOKED = "gov.license.license.revoked.v1"
LICENSE_TOPIC = "license.license.v1"


def revoked(**changes: object) -> CloudEvent:
    data: dict[str, object] = {
        "license_id": str(uuid.uuid4()),
        "license_type": "CN-BIRTH-CERT",
        "holder_kind": "citizen",
        "holder_index": "a" * 64,
        "issuer": "市卫生健康委员会",
        "revoked_at": "2026-10-20T02:00:00Z",
        "reason": "登记错误",
        "case_id": None,
        "subcase_id": None,
        **changes,
    }
    return CloudEvent(type=REVOKED, source="/yiwang/license", data=data, subject="k")


async def handle(app, event: CloudEvent) -> None:
    runtime = app.state.runtime
    async with runtime.sessions() as session, session.begin():
        ctx = runtime.handler_context(session, event)
        await handlers.on_timeline_event(ctx, LicenseRevokedIn.model_validate(event.data))


async def revocation_entries(app, case_id: str) -> list[tuple[str | None, str]]:
    async with app.state.runtime.sessions() as session:
        rows = await session.execute(
            select(TimelineEntry.subcase_id, TimelineEntry.summary).where(
                TimelineEntry.case_id == case_id, TimelineEntry.event_type == REVOKED
            )
        )
        return [tuple(r) for r in rows]


async def counted(app) -> dict[str, dict[str, int]]:
    async with app.state.runtime.sessions() as session:
        return await metrics.counters(session)


async def test_a_revocation_is_noted_on_its_case_and_sub_case(app, submit_case):
    case = await submit_case()
    subcase_id = f"{case['case_id'][:8]}-1"
    async with app.state.runtime.sessions() as session, session.begin():
        session.add(
            SubcaseWatch(
                subcase_id=subcase_id,
                case_id=case["case_id"],
                matter_code="11000000000002",
                matter_name="审批事项",
                department="市卫生健康委员会",
                promised_days=3,
                status="decided",
            )
        )
    event = revoked(case_id=case["case_id"], subcase_id=subcase_id)
    await handle(app, event)
    license_id = event.data["license_id"]
    assert await revocation_entries(app, case["case_id"]) == [
        (subcase_id, f"证照已吊销：CN-BIRTH-CERT（{license_id}），原因：登记错误")
    ]
    found = await counted(app)
    assert found[metrics.LICENSES_REVOKED] == {"CN-BIRTH-CERT": 1}
    assert metrics.LICENSES_REVOKED_UNLINKED not in found


async def test_a_repeated_revocation_adds_no_second_entry(app, submit_case):
    case = await submit_case()
    first = revoked(case_id=case["case_id"])
    await handle(app, first)
    # The same revocation in a new event (its id differs, so the inbox lets it through).
    await handle(app, revoked(**{**first.data}))
    assert len(await revocation_entries(app, case["case_id"])) == 1


async def test_a_revocation_without_a_watched_case_is_counted(app):
    await handle(app, revoked())
    await handle(app, revoked(case_id=str(uuid.uuid4())))  # a case not (yet) watched here
    found = await counted(app)
    assert found[metrics.LICENSES_REVOKED] == {"CN-BIRTH-CERT": 2}
    assert found[metrics.LICENSES_REVOKED_UNLINKED] == {"CN-BIRTH-CERT": 2}


async def test_a_revocation_arrives_over_the_bus(app, publish, submit_case):
    case = await submit_case()
    event = revoked(case_id=case["case_id"])
    await publish(LICENSE_TOPIC, REVOKED, event.data["license_id"], event=event)

    async def noted() -> bool:
        return len(await revocation_entries(app, case["case_id"])) == 1

    await eventually(noted, timeout=30)
