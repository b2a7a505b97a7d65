"""One-window intake after submission, on both backends: pre-review lists every problem
at once, the window accepts (容缺 / 告知承诺) or asks for supplements (补正, the clock
stops), departments decide their sub-cases in parallel, dependencies route in order,
and every change is an event on ``intake.case.v1``."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select

from intake import deadlines, workflow
from intake.models import Case, SubCase
from yiwang_platform.pii import PiiCipher
from yiwang_platform.workdays import china_today

from .factories import (
    APPLICANT,
    BIRTH_CERTIFICATE_TYPE,
    OTHER_CITIZEN,
    accept_in_full,
    answer_license_types,
    approve_business_license,
    events,
    make_case,
    upload,
)

MATERIALS = [
    {"code": "M-ID", "name": "父母身份证明", "form": "原件", "key": True, "license_type": None},
    {
        "code": "M-MARRIAGE",
        "name": "结婚证",
        "form": "电子",
        "key": False,
        "license_type": "marriage-certificate",
    },
]
ELEMENTS = {
    "materials": MATERIALS,
    "commitment_allowed": True,
    "license_type": "birth-medical-certificate",
}
FORM = {"applicant_name": "王建国", "child_name": "王小明", "birth_date": "2026-11-20"}
COMPANY_FORM = {"enterprise_name": "杭州示例理发有限公司", "uscc": "91330106748123991G"}


async def apply_with_id(api: Any, id_upload: str, **more: Any) -> Any:
    """Apply for the birth certificate with ``FORM`` and the upload ``id_upload`` as the
    ID material (and ``more`` of the application); the response."""
    return await api.post(
        "/api/v1/intake/applications",
        json={
            "matter_code": "11000000000001",
            "form": FORM,
            "materials": [{"code": "M-ID", "upload_id": id_upload}],
            **more,
        },
    )


async def test_pre_review_lists_every_problem_at_once(app, citizen, publish_matter):
    await publish_matter(**ELEMENTS)
    async with citizen() as api:
        body = {
            "matter_code": "11000000000001",
            "form": {**FORM, "mother_id_number": "110101199003074515", "birth_date": "2099-01-01"},
            "commitments": ["M-UNKNOWN"],
        }
        checked = await api.post("/api/v1/intake/applications/pre-reviews", json=body)
        refused = await api.post("/api/v1/intake/applications", json=body)

    assert checked.status_code == 200
    review = checked.json()
    assert review["passed"] is False
    assert sorted((p["code"], p["target"]) for p in review["problems"]) == [
        ("date_in_future", "birth_date"),
        ("id_number_invalid", "mother_id_number"),
        ("material_missing", "M-ID"),
        ("material_unknown", "M-UNKNOWN"),
    ]
    assert review["missing_non_key"] == ["M-MARRIAGE"]
    assert refused.status_code == 422
    assert refused.json()["code"] == "pre_review_failed"
    assert len(refused.json()["problems"]) == 4
    async with app.state.runtime.sessions() as s:
        assert (await s.scalars(select(Case))).all() == []


async def test_deficiency_acceptance_then_late_supplement(app, citizen, window, publish_matter):
    await publish_matter(**ELEMENTS)
    async with citizen() as api:
        id_upload = await upload(api)
        created = await apply_with_id(api, id_upload)
    assert created.status_code == 201, created.text
    case = created.json()
    assert case["missing_materials"] == ["M-MARRIAGE"]

    async with window() as clerk:
        url = f"/api/v1/intake/cases/{case['case_id']}/acceptance"
        full = await clerk.post(url, json={"mode": "full"})
        assert (full.status_code, full.json()["code"]) == (422, "acceptance_mode_mismatch")
        accepted = await clerk.post(url, json={"mode": "deficiency"})
        assert accepted.status_code == 200, accepted.text
        again = await clerk.post(url, json={"mode": "deficiency"})
        assert (again.status_code, again.json()["code"]) == (409, "case_state_conflict")
    accepted_case = accepted.json()
    assert accepted_case["status"] == "accepted"
    assert accepted_case["acceptance_mode"] == "deficiency"
    assert accepted_case["supplement_due"] == (
        deadlines.add_working_days(china_today(), 5).isoformat()
    )
    assert [s["status"] for s in accepted_case["subcases"]] == ["routed"]

    async with citizen() as api:
        marriage = await upload(api)
        supplied = await api.post(
            f"/api/v1/intake/cases/{case['case_id']}/supplements",
            json={"materials": [{"code": "M-MARRIAGE", "upload_id": marriage}]},
        )
    assert supplied.status_code == 200, supplied.text
    assert supplied.json()["missing_materials"] == []
    assert supplied.json()["status"] == "accepted"

    found = await events(app)
    assert [t for t, _ in found] == [
        "gov.intake.case.submitted.v1",
        "gov.intake.case.accepted.v1",
        "gov.intake.case.supplemented.v1",
    ]
    assert found[2][1]["materials"] == ["M-MARRIAGE"]
    assert found[2][1]["missing_materials"] == []
    accepted_event = found[1][1]
    assert accepted_event["mode"] == "deficiency"
    assert accepted_event["missing_materials"] == ["M-MARRIAGE"]


async def test_another_citizens_upload_does_not_count(app, citizen, publish_matter):
    await publish_matter(**ELEMENTS)
    async with citizen(OTHER_CITIZEN) as other:
        foreign = await upload(other)
    async with citizen() as api:
        refused = await apply_with_id(api, foreign)
    assert refused.status_code == 422
    codes = {p["code"] for p in refused.json()["problems"]}
    assert codes == {"upload_not_found", "material_missing"}


async def test_supplement_pause_blocks_decisions_and_approval_issues_the_license(
    app, publish_matter, citizen, window, reviewer
):
    # Approving asks the license service which fields its e-license carries.
    await answer_license_types(app, [BIRTH_CERTIFICATE_TYPE])
    await publish_matter(**ELEMENTS)
    async with citizen() as api:
        created = await apply_with_id(api, await upload(api), commitments=["M-MARRIAGE"])
    assert created.status_code == 201, created.text
    case_id = created.json()["case_id"]
    async with window() as clerk:
        accepted = await clerk.post(
            f"/api/v1/intake/cases/{case_id}/acceptance", json={"mode": "commitment"}
        )
        assert accepted.status_code == 200, accepted.text
        paused = await clerk.post(
            f"/api/v1/intake/cases/{case_id}/supplement-requests",
            json={"materials": ["M-ID"], "reason": "身份证明复印件不清晰"},
        )
        assert paused.json()["status"] == "suspended"
    subcase_id = accepted.json()["subcases"][0]["subcase_id"]

    decision_url = f"/api/v1/intake/subcases/{subcase_id}/decision"
    async with reviewer() as health:
        blocked = await health.post(decision_url, json={"decision": "approved"})
        assert (blocked.status_code, blocked.json()["code"]) == (409, "case_state_conflict")
    async with citizen() as api:
        resumed = await api.post(
            f"/api/v1/intake/cases/{case_id}/supplements",
            json={"materials": [{"code": "M-ID", "upload_id": await upload(api)}]},
        )
        assert resumed.json()["status"] == "accepted"
    async with reviewer(department="市公安局") as police:
        foreign = await police.post(decision_url, json={"decision": "approved"})
        assert (foreign.status_code, foreign.json()["code"]) == (404, "subcase_not_found")
    async with window() as clerk:
        not_reviewer = await clerk.post(decision_url, json={"decision": "approved"})
        assert not_reviewer.status_code == 403
    certificate = {
        "certificate_number": "O330106123",
        "newborn_name": "王小明",
        "sex": "男",
        "birth_time": "2026-11-20T08:30",
        "birth_place": "杭州市妇产科医院",
    }
    async with reviewer() as health:
        queue = await health.get("/api/v1/intake/subcases")
        assert [s["subcase_id"] for s in queue.json()["items"]] == [subcase_id]
        incomplete = await health.post(
            decision_url, json={"decision": "approved", "fields": certificate}
        )
        assert (incomplete.status_code, incomplete.json()["code"]) == (
            422,
            "license_fields_missing",
        )
        assert incomplete.json()["fields"] == ["mother_name"]
        approved = await health.post(
            decision_url,
            json={"decision": "approved", "fields": {**certificate, "mother_name": "李芳"}},
        )
        assert approved.status_code == 200, approved.text
        twice = await health.post(decision_url, json={"decision": "approved"})
        assert twice.status_code == 409

    found = await events(app)
    assert [t for t, _ in found] == [
        "gov.intake.case.submitted.v1",
        "gov.intake.case.accepted.v1",
        "gov.intake.case.suspended.v1",
        "gov.intake.case.resumed.v1",
        "gov.intake.subcase.decided.v1",
        "gov.intake.case.completed.v1",
    ]
    decided = found[4][1]
    issued = decided["license"]
    cipher = PiiCipher.from_settings(app.state.runtime.settings)
    assert issued["license_type"] == "birth-medical-certificate"
    assert issued["holder_kind"] == "citizen"
    assert issued["holder_index"] == cipher.blind_index(APPLICANT)
    assert cipher.decrypt(issued["holder_encrypted"]) == APPLICANT
    # Only the fields the type declares; the rest of the form stays with intake.
    assert json.loads(cipher.decrypt(issued["fields_encrypted"])) == {
        **certificate,
        "mother_name": "李芳",
    }
    # Nothing personal travels in clear.
    assert APPLICANT not in json.dumps(found, ensure_ascii=False)
    assert "王小明" not in json.dumps(found, ensure_ascii=False)
    assert "王建国" not in json.dumps(found, ensure_ascii=False)
    assert found[5][1]["outcome"] == "approved"


async def test_dependents_wait_for_their_dependency_and_fall_with_its_refusal(app):
    runtime = app.state.runtime
    cipher = PiiCipher.from_settings(runtime.settings)
    approved_case = await make_case(app, form=COMPANY_FORM)
    refused_case = await make_case(app, form=COMPANY_FORM)
    monday = datetime(2026, 11, 30, 2, tzinfo=UTC)

    async with runtime.sessions() as s, s.begin():
        case = await s.get(Case, approved_case.id)
        assert case is not None
        subcases = await accept_in_full(s, case, outbox=runtime.outbox, now=monday)
        by_code = {x.matter_code: x for x in subcases}
        assert {c: x.status for c, x in by_code.items()} == {
            "BIZ-LICENSE": "routed",
            "SEAL": "waiting",
            "TAX": "waiting",
        }
        assert by_code["SEAL"].depends_on == [by_code["BIZ-LICENSE"].id]
        # 1 working day for the license, then 1 for its dependents.
        assert case.due_date == date(2026, 12, 2)
        await approve_business_license(
            s,
            case,
            subcases=subcases,
            outbox=runtime.outbox,
            cipher=cipher,
            reviewer="reviewer-1",
            now=monday,
        )
        assert {x.matter_code: x.status for x in await workflow.subcases_of(s, case.id)} == {
            "BIZ-LICENSE": "approved",
            "SEAL": "routed",
            "TAX": "routed",
        }

    async with runtime.sessions() as s, s.begin():
        case = await s.get(Case, refused_case.id)
        assert case is not None
        subcases = await accept_in_full(s, case, outbox=runtime.outbox, now=monday)
        first = next(x for x in subcases if x.matter_code == "BIZ-LICENSE")
        await workflow.decide(
            s,
            runtime.outbox,
            cipher=cipher,
            case=case,
            subcase=first,
            reviewer="reviewer-1",
            decision="refused",
            reason="名称不予核准",
            fields={},
            now=datetime.now(UTC),
        )
        assert case.status == "completed" and case.outcome == "refused"
        rows = (await s.scalars(select(SubCase).where(SubCase.case_id == case.id))).all()
        assert sorted(x.status for x in rows) == ["cancelled", "cancelled", "refused"]

    by_case: dict[str, list[str]] = {}
    for event_type, data in await events(app):
        by_case.setdefault(data["case_id"], []).append(event_type)
    assert by_case[approved_case.id] == [
        "gov.intake.case.submitted.v1",
        "gov.intake.case.accepted.v1",
        "gov.intake.subcase.decided.v1",
        "gov.intake.subcase.routed.v1",
        "gov.intake.subcase.routed.v1",
    ]
    assert by_case[refused_case.id] == [
        "gov.intake.case.submitted.v1",
        "gov.intake.case.accepted.v1",
        "gov.intake.subcase.decided.v1",
        "gov.intake.case.completed.v1",
    ]
    decided = [
        d
        for t, d in await events(app)
        if t == "gov.intake.subcase.decided.v1" and d["case_id"] == refused_case.id
    ]
    assert decided[0]["license"] is None


async def test_a_pause_moves_every_open_deadline_by_its_working_days(app):
    runtime = app.state.runtime
    created = await make_case(app, form=COMPANY_FORM)
    before_holiday = datetime(2026, 9, 29, 2, tzinfo=UTC)  # Tuesday before National Day
    async with runtime.sessions() as s, s.begin():
        case = await s.get(Case, created.id)
        assert case is not None
        subcases = await accept_in_full(s, case, outbox=runtime.outbox, now=before_holiday)
        first = next(x for x in subcases if x.matter_code == "BIZ-LICENSE")
        assert first.due_date == date(2026, 9, 30)
        await workflow.request_supplement(
            s,
            runtime.outbox,
            case=case,
            materials=["M-1"],
            reason="材料不清晰",
            now=before_holiday,
        )
        # Suspended 9-29 → 10-12: working days 9-29, 9-30, 10-09 (Fri), 10-10 (Sat, adjusted).
        await workflow.supply(
            s,
            runtime.outbox,
            case=case,
            supplied=[{"code": "M-1", "kind": "upload", "ref": "u-1"}],
            now=datetime(2026, 10, 12, 2, tzinfo=UTC),
        )
        paused = deadlines.working_days_between(
            before_holiday, datetime(2026, 10, 12, 2, tzinfo=UTC)
        )
        assert case.suspended_working_days == paused
        assert first.due_date == deadlines.add_working_days(date(2026, 9, 30), paused)
        assert case.status == "accepted"
    resumed = [d for t, d in await events(app) if t == "gov.intake.case.resumed.v1"]
    assert [r["suspended_working_days"] for r in resumed] == [paused]
    assert paused >= 3
