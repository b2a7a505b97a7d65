"""Both 一件事 journeys end to end through the standalone platform (every service in
one process, the in-process bus), plus their bad paths: a missing key material refused
at pre-review, and a department's refusal ending the case without a license. The same
journeys run on the distributed stack in ``test_distributed_journeys.py``."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools import journeys

pytestmark = pytest.mark.face_model


async def test_birth_bundle_done_once_ends_with_licenses_in_the_wallet(tmp_path: Path):
    async with journeys.standalone(tmp_path) as platform:
        outcome = await journeys.birth(platform)
        # 免提交: the new household register stands in for the paper one in the next
        # application, for its holder only.
        register = next(x for x in outcome.licenses if x["license_type"] == "household-register")
        body = {
            "matter_code": "0700201001",
            "materials": [{"code": "HOUSEHOLD-BOOK", "license_id": register["license_id"]}],
        }
        own = await platform.api.post(
            "/api/v1/intake/applications/pre-reviews", json=body, headers=outcome.applicant
        )
        father = journeys.seed_person(journeys.seed.FATHER_ID)
        other = await platform.citizen("13800000011", father["id_number"], father["name"])
        foreign = await platform.api.post(
            "/api/v1/intake/applications/pre-reviews", json=body, headers=other
        )
    case = outcome.case
    assert (case["status"], case["outcome"]) == ("completed", "approved")
    assert case["acceptance_mode"] == "deficiency"
    assert case["missing_materials"] == []
    assert [s["status"] for s in case["subcases"]] == ["approved"] * 4
    assert sorted(x["license_type"] for x in outcome.licenses) == [
        "birth-medical-certificate",
        "household-register",
        "social-security-card",
    ]
    certificate = next(
        x for x in outcome.licenses if x["license_type"] == "birth-medical-certificate"
    )
    assert certificate["fields"]["newborn_name"] == "陈安然"
    assert certificate["status"] == "valid"
    shown = outcome.notes["presentation"]
    assert shown["verified"]["fields"] == {
        "newborn_name": "陈安然",
        "birth_place": "杭州市妇产科医院",
    }
    assert shown["tampered"]["valid"] is False
    timeline = outcome.notes["timeline"]
    assert [e["event_type"] for e in timeline["entries"]][:2] == [
        "gov.intake.case.submitted.v1",
        "gov.intake.case.accepted.v1",
    ]
    assert timeline["entries"][-1]["event_type"] == "gov.intake.case.completed.v1"
    assert outcome.notes["review"]["rating"] == 5

    assert own.status_code == 200, own.text
    supplied = {m["code"]: m["supplied"] for m in own.json()["materials"]}
    assert supplied["HOUSEHOLD-BOOK"] == "license"
    assert "HOUSEHOLD-BOOK" not in {p["target"] for p in own.json()["problems"]}
    assert ("license_not_found", "HOUSEHOLD-BOOK") in {
        (p["code"], p["target"]) for p in foreign.json()["problems"]
    }


async def test_company_opening_routes_the_rest_after_the_business_license(tmp_path: Path):
    async with journeys.standalone(tmp_path) as platform:
        outcome = await journeys.company(platform)
        refused = await journeys.company(platform, refuse_license=True)
    case = outcome.case
    assert (case["status"], case["outcome"]) == ("completed", "approved")
    assert len(case["subcases"]) == 6
    assert {s["status"] for s in case["subcases"]} == {"approved"}
    [business] = outcome.licenses
    assert business["license_type"] == "business-license"
    assert business["holder_kind"] == "enterprise"
    assert business["fields"]["company_name"] == "杭州一网理发有限公司"

    # The registrar refuses the business license: the rest never starts, nothing is issued.
    assert (refused.case["status"], refused.case["outcome"]) == ("completed", "refused")
    assert sorted(s["status"] for s in refused.case["subcases"]) == ["cancelled"] * 5 + ["refused"]
    assert refused.licenses == []


async def test_a_missing_key_material_is_refused_at_pre_review(tmp_path: Path):
    async with journeys.standalone(tmp_path) as platform:
        founder = journeys.seed_person(journeys.seed.FOUNDER_ID)
        auth = await platform.citizen("13800000009", founder["id_number"], founder["name"])
        resolved = await journeys.guide(platform, auth, "COMPANY-OPENING", journeys.COMPANY_ANSWERS)
        key = sorted(m["code"] for m in resolved["materials"] if m["key"])
        with pytest.raises(journeys.StepFailed, match="pre-review") as refused:
            await journeys.apply(
                platform,
                auth,
                "COMPANY-OPENING",
                journeys.COMPANY_ANSWERS,
                {"company_name": "杭州缺件测试有限公司"},
                resolved["materials"],
                {key[0]},
            )
        message = str(refused.value)
        assert "material_missing" in message and key[0] in message
        # Every problem at once: the required form fields are listed as well.
        assert "field_required" in message
        cases = await platform.api.get("/api/v1/intake/applications", headers=auth)
        assert cases.json()["items"] == []


async def test_a_supplement_request_stops_the_clock_until_the_applicant_supplies(
    tmp_path: Path,
):
    async with journeys.standalone(tmp_path) as platform:
        founder = journeys.seed_person(journeys.seed.FOUNDER_ID)
        auth = await platform.citizen("13800000010", founder["id_number"], founder["name"])
        resolved = await journeys.guide(platform, auth, "COMPANY-OPENING", journeys.COMPANY_ANSWERS)
        form = {
            "company_name": "杭州补正测试有限公司",
            "legal_representative": founder["name"],
            "registered_address": "浙江省杭州市西湖区文三路100号",
            "business_scope": "理发服务",
            "registered_capital": "10",
            "shareholders": f"{founder['name']} 100%",
        }
        case = await journeys.apply(
            platform,
            auth,
            "COMPANY-OPENING",
            journeys.COMPANY_ANSWERS,
            form,
            resolved["materials"],
            set(),
        )
        case_id = case["case_id"]
        accepted = await journeys.accept_at_window(platform, case_id, "full")
        clerk = await platform.staff("window-001", "市政务服务中心", ["window"])
        paused = await platform.api.post(
            f"/api/v1/intake/cases/{case_id}/supplement-requests",
            json={"materials": ["ARTICLES"], "reason": "公司章程缺少股东签字"},
            headers=clerk,
        )
        assert paused.json()["status"] == "suspended", paused.text
        suspended = await journeys.supervised(platform, case_id, "suspended")
        assert suspended["deadline"]["level"] == "none"
        assert suspended["deadline"]["remaining_working_days"] is None

        # Nothing is decided while the clock is stopped.
        first = next(s for s in accepted["subcases"] if s["status"] == "routed")
        registrar = await platform.reviewer(first["department"])
        blocked = await platform.api.post(
            f"/api/v1/intake/subcases/{first['subcase_id']}/decision",
            json={"decision": "refused", "reason": "材料不全"},
            headers=registrar,
        )
        assert (blocked.status_code, blocked.json()["code"]) == (409, "case_state_conflict")

        resumed = await platform.api.post(
            f"/api/v1/intake/cases/{case_id}/supplements",
            json={"materials": [{"code": "ARTICLES", "upload_id": await platform.upload(auth)}]},
            headers=auth,
        )
        assert resumed.json()["status"] == "accepted", resumed.text
        # Paused and resumed on the same day: the deadline stays where it was.
        assert resumed.json()["due_date"] == accepted["due_date"]
        running = await journeys.supervised(platform, case_id, "open")
        assert [e["event_type"] for e in running["entries"]][-2:] == [
            "gov.intake.case.suspended.v1",
            "gov.intake.case.resumed.v1",
        ]
        assert running["deadline"]["due_date"] == accepted["due_date"]
