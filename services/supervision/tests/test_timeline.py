"""Case and sub-case timelines from intake's case events, on both backends: the exact
entries of a full case, redelivery adding nothing, and events that cannot apply going
to the dead-letter topic with the reason."""

from __future__ import annotations

import json
import uuid

from sqlalchemy import func, select

from supervision.models import TimelineEntry
from yiwang_platform.testing import client

POLICE = "市公安局"
HEALTH = "市卫生健康委员会"


def timeline_url(case_id: str) -> str:
    return f"/api/v1/supervision/cases/{case_id}/timeline"


async def _full_case(case_events) -> tuple[dict, list]:
    """Submitted, accepted with one sub-case waiting for another, suspended for 补正,
    resumed, both sub-cases decided (the second routed in between), completed."""
    case = await case_events.submitted(
        submitted_at="2026-09-28T01:00:00Z", promised_days=5, applicant="someone"
    )
    case_id = case["case_id"]
    first, second = f"{case_id[:8]}-1", f"{case_id[:8]}-2"
    sent = [
        await case_events.accepted(
            case_id,
            "2026-09-29T02:00:00Z",
            "2026-10-12",
            [
                case_events.subcase(first, HEALTH, "2026-10-09"),
                case_events.subcase(second, POLICE, None, depends_on=[first]),
            ],
            mode="deficiency",
            supplement_due="2026-10-09",
            missing_materials=["户口簿复印件"],
        ),
        await case_events.suspended(
            case_id, "2026-09-30T03:00:00Z", "材料不清晰", ["出生医学证明"]
        ),
        await case_events.resumed(case_id, "2026-10-09T01:00:00Z", 2, "2026-10-14"),
        await case_events.decided(case_id, first, HEALTH, "2026-10-09T06:00:00Z"),
        await case_events.routed(case_id, second, POLICE, "2026-10-09T07:00:00Z", "2026-10-13"),
        await case_events.decided(case_id, second, POLICE, "2026-10-12T03:00:00Z"),
        await case_events.completed(case_id, "2026-10-12T03:00:01Z"),
    ]
    return case, sent


def _approved_subcase(
    subcase_id: str, department: str, *, depends_on: list[str], due_date: str, entries: list
) -> dict:
    """A sub-case's timeline once approved: its deadline no longer counts down."""
    return {
        "subcase_id": subcase_id,
        "matter_code": "11000000000002",
        "matter_name": f"{department}审批事项",
        "department": department,
        "depends_on": depends_on,
        "status": "decided",
        "decision": "approved",
        "deadline": {"due_date": due_date, "remaining_working_days": None, "level": "none"},
        "entries": entries,
    }


def _entry(kind: str, at: str, summary: str) -> dict[str, str]:
    return {"event_type": f"gov.intake.{kind}.v1", "at": at, "summary": summary}


async def test_timeline_of_a_full_case_and_redelivery_adds_nothing(
    app, signer, case_events, on_day
):
    case, sent = await _full_case(case_events)
    await case_events.settle()
    case_id = case["case_id"]
    first, second = f"{case_id[:8]}-1", f"{case_id[:8]}-2"
    on_day("2026-10-12")
    async with client(app, signer, audience="supervision", principal_type="supervisor") as api:
        response = await api.get(timeline_url(case_id))
        assert response.status_code == 200
        timeline = response.json()
        assert timeline == {
            "case_id": case_id,
            "matter_code": "11000000000001",
            "matter_name": "出生医学证明签发",
            "department": HEALTH,
            "channel": "online",
            "status": "completed",
            "outcome": "approved",
            "submitted_at": "2026-09-28T01:00:00Z",
            "accepted_at": "2026-09-29T02:00:00Z",
            "deadline": {"due_date": "2026-10-14", "remaining_working_days": None, "level": "none"},
            "entries": [
                _entry(
                    "case.submitted",
                    "2026-09-28T01:00:00Z",
                    "网上申请：出生医学证明签发（市卫生健康委员会），承诺5个工作日",
                ),
                _entry(
                    "case.accepted",
                    "2026-09-29T02:00:00Z",
                    "容缺受理，承诺2026-10-12前办结；容缺1项材料，须于2026-10-09前补齐",
                ),
                _entry(
                    "case.suspended",
                    "2026-09-30T03:00:00Z",
                    "补正，暂停计时：材料不清晰（需补正：出生医学证明）",
                ),
                _entry(
                    "case.resumed",
                    "2026-10-09T01:00:00Z",
                    "补正完成，恢复计时；暂停2个工作日，办结期限顺延至2026-10-14",
                ),
                _entry("case.completed", "2026-10-12T03:00:01Z", "办结：准予许可"),
            ],
            "subcases": [
                _approved_subcase(
                    first,
                    HEALTH,
                    depends_on=[],
                    # 10-09 moved by the two working days of 补正: the working Saturday 10-10, 10-12.
                    due_date="2026-10-12",
                    entries=[
                        _entry(
                            "case.accepted",
                            "2026-09-29T02:00:00Z",
                            f"分送{HEALTH}审批，承诺2026-10-09前办结",
                        ),
                        _entry("subcase.decided", "2026-10-09T06:00:00Z", f"{HEALTH}审批通过"),
                    ],
                ),
                _approved_subcase(
                    second,
                    POLICE,
                    depends_on=[first],
                    due_date="2026-10-13",
                    entries=[
                        _entry(
                            "case.accepted",
                            "2026-09-29T02:00:00Z",
                            f"待前置子件{first}批准后分送{POLICE}",
                        ),
                        _entry(
                            "subcase.routed",
                            "2026-10-09T07:00:00Z",
                            f"前置子件已批准，分送{POLICE}审批，承诺2026-10-13前办结",
                        ),
                        _entry("subcase.decided", "2026-10-12T03:00:00Z", f"{POLICE}审批通过"),
                    ],
                ),
            ],
        }

        # Every event again: the inbox knows them, nothing changes.
        for event in sent:
            await case_events.send("", again=event)
        marker = await case_events.submitted()
        await case_events.settle()
        assert (await api.get(timeline_url(case_id))).json() == timeline
        assert (await api.get(timeline_url(marker["case_id"]))).status_code == 200
    assert app.state.runtime.consumer.applied == 9
    async with app.state.runtime.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(TimelineEntry)) == 11


async def test_events_for_unknown_cases_are_dead_lettered_with_the_reason(
    app, case_events, read_topic
):
    stranger = str(uuid.uuid4())
    await case_events.accepted(
        stranger, "2026-09-29T02:00:00Z", "2026-10-12", [case_events.subcase("s-1", HEALTH, None)]
    )
    await case_events.decided(stranger, "s-1", HEALTH, "2026-10-09T06:00:00Z")
    known = await case_events.submitted()
    await case_events.decided(known["case_id"], "nope", HEALTH, "2026-10-09T06:00:00Z")
    await case_events.resumed(known["case_id"], "2026-10-09T01:00:00Z", 1, "2026-10-12")
    await case_events.settle()

    dead = await read_topic("intake.case.v1.dlq", 4)
    reasons = sorted(dict(m.headers)["dlq_reason"].decode() for m in dead)
    assert reasons == sorted(
        [
            f"rejected: gov.intake.case.accepted.v1 for case {stranger}, which was never submitted",
            f"rejected: gov.intake.subcase.decided.v1 for case {stranger}, "
            "which was never submitted",
            f"rejected: sub-case nope is not part of case {known['case_id']}",
            f"rejected: gov.intake.case.resumed.v1 for case {known['case_id']} while it is open",
        ]
    )
    assert {json.loads(m.value)["case_id"] for m in dead} == {stranger, known["case_id"]}
    assert app.state.runtime.consumer.dead_lettered == 4
    async with app.state.runtime.sessions() as s:
        entries = (await s.scalars(select(TimelineEntry.event_type))).all()
    assert entries == ["gov.intake.case.submitted.v1"]


async def test_timeline_is_for_overseers_and_unknown_cases_are_404(app, signer, case_events):
    case = await case_events.submitted()
    await case_events.settle()
    async with client(app, signer, audience="supervision", principal_type="operator") as api:
        assert (await api.get(timeline_url(case["case_id"]))).status_code == 200
        for unknown in (str(uuid.uuid4()), "x" * 300):
            response = await api.get(timeline_url(unknown))
            assert response.status_code == 404
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["code"] == "case_not_found"
    for ptype in ("citizen", "staff"):
        async with client(app, signer, audience="supervision", principal_type=ptype) as api:
            response = await api.get(timeline_url(case["case_id"]))
            assert (response.status_code, response.json()["code"]) == (403, "forbidden")


async def _deficient_case(case_events, *, promised_days: int, due: str, missing: list[str]) -> str:
    """A case submitted and accepted on 11-30 with ``missing`` materials owed by 12-04
    (容缺受理), and one sub-case due with it."""
    case = await case_events.submitted(
        submitted_at="2026-11-30T01:00:00Z", promised_days=promised_days, applicant="someone"
    )
    case_id = case["case_id"]
    await case_events.accepted(
        case_id,
        "2026-11-30T02:00:00Z",
        due,
        [case_events.subcase(f"{case_id[:8]}-1", HEALTH, due)],
        mode="deficiency",
        supplement_due="2026-12-04",
        missing_materials=missing,
    )
    return case_id


async def _supplied(case_events, case_id: str, at: str, materials: list, missing: list) -> None:
    data = {
        "case_id": case_id,
        "supplied_at": at,
        "materials": materials,
        "missing_materials": missing,
    }
    await case_events.send("case.supplemented", data)


async def test_late_materials_after_deficiency_acceptance_show_on_the_timeline(
    app, signer, case_events, on_day
):
    case_id = await _deficient_case(
        case_events, promised_days=5, due="2026-12-07", missing=["MARRIAGE-CERT", "PHOTO"]
    )
    for materials, missing in ((["PHOTO"], ["MARRIAGE-CERT"]), (["MARRIAGE-CERT"], [])):
        await _supplied(case_events, case_id, "2026-12-01T03:00:00Z", materials, missing)
    await case_events.settle()
    on_day("2026-12-01")
    async with client(app, signer, audience="supervision", principal_type="supervisor") as api:
        timeline = (await api.get(timeline_url(case_id))).json()
        # Everything supplied: no card for the materials, even after their date.
        on_day("2026-12-07")
        late = (await api.get("/api/v1/supervision/warnings")).json()["items"]
    assert "supplement" not in {w["kind"] for w in late}
    assert [e["summary"] for e in timeline["entries"]][-2:] == [
        "补充材料：PHOTO；尚缺：MARRIAGE-CERT",
        "补充材料：MARRIAGE-CERT；材料已齐全",
    ]
    assert timeline["status"] == "open"


async def test_materials_owed_after_deficiency_acceptance_get_their_own_cards(
    app, signer, case_events, on_day
):
    case_id = await _deficient_case(
        case_events, promised_days=10, due="2026-12-14", missing=["PHOTO"]
    )
    await case_events.settle()

    async def supplement_cards(day: str) -> list[tuple[str, str]]:
        on_day(day)
        async with client(app, signer, audience="supervision", principal_type="supervisor") as api:
            items = (await api.get("/api/v1/supervision/warnings")).json()["items"]
        return [(w["level"], w["due_date"]) for w in items if w["kind"] == "supplement"]

    assert await supplement_cards("2026-12-02") == []
    assert await supplement_cards("2026-12-03") == [("yellow", "2026-12-04")]
    assert await supplement_cards("2026-12-07") == [("red", "2026-12-04")]
    await _supplied(case_events, case_id, "2026-12-07T03:00:00Z", ["PHOTO"], [])
    await case_events.settle()
    assert await supplement_cards("2026-12-07") == []


async def test_a_submitted_case_keeps_the_due_date_intake_counted(app, signer, case_events):
    # Saturday 11-21 with one working day: intake's date is used as sent, not recounted.
    carried = await case_events.submitted(
        submitted_at="2026-11-21T02:00:00Z", promised_days=1, due_date="2026-11-23"
    )
    sent_by_intake = await case_events.submitted(
        submitted_at="2026-11-21T02:00:00Z", promised_days=1, due_date="2026-11-27"
    )
    # An event from before intake carried the date: counted by the same rule.
    older = await case_events.submitted(submitted_at="2026-11-21T02:00:00Z", promised_days=1)
    await case_events.settle()

    async with client(app, signer, audience="supervision", principal_type="supervisor") as api:

        async def due(case: dict) -> str:
            timeline = (await api.get(timeline_url(case["case_id"]))).json()
            return timeline["deadline"]["due_date"]

        assert await due(carried) == "2026-11-23"
        assert await due(sent_by_intake) == "2026-11-27"
        assert await due(older) == "2026-11-23"
