"""Window submissions assign the case to the staff member who took it, and the
case-binding look-up answers the gateway only."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from fastapi.encoders import jsonable_encoder as jsonable

from intake.models import Case
from yiwang_platform.pii import PiiCipher
from yiwang_platform.testing import client

APPLICANT = "110101199003074514"
OTHER = "11010519491231002X"
APPLICATIONS = "/api/v1/intake/applications"


async def test_a_window_case_is_assigned_to_its_staff_member(app, signer, publish_matter):
    await publish_matter()
    body = {"matter_code": "11000000000001", "channel": "window", "form": {}}
    async with client(
        app, signer, audience="intake", subject="staff-7", principal_type="staff"
    ) as staff:
        missing = await staff.post(APPLICATIONS, json=body)
        assert (missing.status_code, missing.json()["code"]) == (422, "applicant_required")
        created = await staff.post(
            APPLICATIONS, json={**body, "applicant_id_number": APPLICANT.lower()}
        )
        assert created.status_code == 201, created.text
        case = created.json()
        assert case["assigned_to"] == "staff-7"
        online = await staff.post(
            APPLICATIONS, json={**body, "channel": "online", "applicant_id_number": APPLICANT}
        )
        assert (online.status_code, online.json()["code"]) == (422, "applicant_not_allowed")
    async with client(
        app, signer, audience="intake", subject=APPLICANT, principal_type="citizen"
    ) as me:
        # The applicant sees the case among their own; citizens cannot name someone else.
        mine = (await me.get(APPLICATIONS)).json()["items"]
        assert [c["case_id"] for c in mine] == [case["case_id"]]
        self_service = await me.post(APPLICATIONS, json=body)
        assert self_service.json()["assigned_to"] is None
        other = await me.post(APPLICATIONS, json={**body, "applicant_id_number": APPLICANT})
        assert other.json()["code"] == "applicant_not_allowed"
        binding_path = f"/api/v1/intake/cases/{case['case_id']}/binding"
        refused = await me.get(binding_path)
        assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")

    cipher = PiiCipher.from_settings(app.state.runtime.settings)
    async with client(
        app, signer, audience="intake", subject="gateway", principal_type="gateway"
    ) as gw:
        binding = await gw.get(binding_path)
        assert binding.json() == {
            "applicant_index": cipher.blind_index(APPLICANT),
            "assigned_to": "staff-7",
            # Typed in by the clerk, no card read: the gateway refuses reads of the applicant.
            "presence": None,
        }
        unknown = await gw.get("/api/v1/intake/cases/no-such-case/binding")
        assert (unknown.status_code, unknown.json()["code"]) == (404, "case_not_found")
    async with client(
        app, signer, audience="intake", subject="staff-7", principal_type="staff"
    ) as staff:
        assert (await staff.get(binding_path)).status_code == 403


async def test_a_card_read_at_submission_is_the_applicants_presence(app, signer, publish_matter):
    await publish_matter()
    now = datetime.now(UTC)
    card = {"method": "id_card", "id_number": APPLICANT, "reference": "CR-1", "read_at": now}
    body = {"matter_code": "11000000000001", "channel": "window", "applicant_id_number": APPLICANT}
    async with client(
        app, signer, audience="intake", subject="staff-7", principal_type="staff"
    ) as staff:
        other = await staff.post(
            APPLICATIONS, json={**body, "presence": {**jsonable(card), "id_number": OTHER}}
        )
        assert (other.status_code, other.json()["code"]) == (422, "presence_mismatch")
        created = await staff.post(APPLICATIONS, json={**body, "presence": jsonable(card)})
        assert created.status_code == 201, created.text
        assert created.json()["presence"]["method"] == "id_card"
        assert created.json()["presence"]["reference"] == "CR-1"
    async with client(
        app, signer, audience="intake", subject=APPLICANT, principal_type="citizen"
    ) as me:
        online = {"matter_code": "11000000000001", "presence": jsonable(card)}
        refused = await me.post(APPLICATIONS, json=online)
        assert (refused.status_code, refused.json()["code"]) == (422, "presence_not_allowed")
    async with client(
        app, signer, audience="intake", subject="gateway", principal_type="gateway"
    ) as gw:
        binding = await gw.get(f"/api/v1/intake/cases/{created.json()['case_id']}/binding")
        assert binding.json()["presence"] == "id_card"
    # The ID number the reader read is checked, never stored.
    async with app.state.runtime.sessions() as s:
        stored = await s.get(Case, created.json()["case_id"])
        assert stored is not None and APPLICANT not in json.dumps(stored.presence)


async def test_a_case_id_the_database_cannot_hold_is_a_client_error(app, signer):
    # PostgreSQL refuses a NUL byte in text; the case actions answer a problem, not a 500.
    case = "/api/v1/intake/cases/abc%00def"
    async with client(
        app, signer, audience="intake", subject="staff-7", principal_type="staff", roles=["window"]
    ) as staff:
        answers = [
            await staff.get(case),
            await staff.post(f"{case}/acceptance", json={"mode": "normal"}),
            await staff.post(f"{case}/refusal", json={"reason": "材料不符"}),
            await staff.post(f"{case}/supplement-requests", json={"materials": ["m1"]}),
        ]
    for answer in answers:
        assert answer.status_code in (400, 404, 422), answer.text
        assert answer.headers["content-type"] == "application/problem+json"
