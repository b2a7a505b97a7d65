"""The applications API on both backends: a submission opens a case pinned to the
current matter version, keeps the applicant encrypted and announces the case."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import func, select

from intake.deadlines import due_date
from intake.models import Case, outbox
from intake.schemas import ApplicationCreate
from yiwang_platform.pii import PiiCipher
from yiwang_platform.testing import all_relayed, client

APPLICANT = "110101199003074514"
FORM = {"child_name": "王小明", "copies": 2, "urgent": False, "note": None}
# The matter a case of the first test is opened for, as its read and its event name it.
SUBMITTED_MATTER = {
    "matter_code": "11000000000001",
    "matter_version": 1,
    "matter_name": "出生医学证明签发",
    "department": "市卫生健康委员会",
    "promised_days": 5,
    "channel": "window",
}


async def test_submit_opens_a_case_and_publishes_it(app, signer, publish_matter, read_topic):
    await publish_matter(promised_days=5)
    async with client(
        app, signer, audience="intake", subject=APPLICANT, principal_type="citizen"
    ) as api:
        headers = {"Idempotency-Key": "apply-1"}
        body = {"matter_code": "11000000000001", "channel": "window", "form": FORM}
        created = await api.post("/api/v1/intake/applications", json=body, headers=headers)
        again = await api.post("/api/v1/intake/applications", json=body, headers=headers)

    assert created.status_code == 201
    case = created.json()
    submitted_at = datetime.fromisoformat(case["submitted_at"])
    assert case == {
        "case_id": case["case_id"],
        **SUBMITTED_MATTER,
        "status": "submitted",
        "form": FORM,
        "submitted_at": case["submitted_at"],
        "due_date": due_date(submitted_at, 5).isoformat(),
        "rating": None,
        "grade": None,
        "rated_at": None,
        "assigned_to": None,
        # The applicant submitted it themself: present from the start.
        "presence": {
            "method": "applicant",
            "reference": None,
            "read_at": None,
            "recorded_by": None,
            "recorded_at": case["submitted_at"],
        },
        "bundle_code": None,
        "acceptance_mode": None,
        "missing_materials": [],
        "supplement_due": None,
        "requested_materials": [],
        "outcome": None,
        "reason": None,
        "subcases": [],
    }
    assert (again.status_code, again.json()) == (201, case)

    runtime = app.state.runtime
    cipher = PiiCipher.from_settings(runtime.settings)
    async with runtime.sessions() as s:
        stored = (await s.scalars(select(Case))).all()
        rows = (await s.execute(select(outbox))).all()
    assert len(stored) == 1
    # The applicant is kept only encrypted, with a blind index for look-ups.
    assert APPLICANT not in stored[0].applicant_encrypted + stored[0].form_encrypted
    assert cipher.decrypt(stored[0].applicant_encrypted) == APPLICANT
    assert stored[0].applicant_index == cipher.blind_index(APPLICANT)

    expected_event = {
        "case_id": case["case_id"],
        **SUBMITTED_MATTER,
        "submitted_at": submitted_at.isoformat().replace("+00:00", "Z"),
        "bundle_code": None,
        "applicant_index": cipher.blind_index(APPLICANT),
        "due_date": case["due_date"],  # so supervision need not count it again
    }
    assert [(r.topic, r.message_key) for r in rows] == [("intake.case.v1", case["case_id"])]
    assert json.loads(rows[0].payload) == expected_event

    await all_relayed(app, outbox)
    assert runtime.relay.published == 1
    messages = await read_topic("intake.case.v1", 1)
    assert len(messages) == 1
    headers = dict(messages[0].headers)
    assert headers["ce_type"] == b"gov.intake.case.submitted.v1"
    assert headers["ce_subject"] == case["case_id"].encode()
    assert messages[0].key == case["case_id"].encode()
    assert json.loads(messages[0].value) == expected_event
    assert APPLICANT.encode() not in messages[0].value + b"".join(v for _, v in messages[0].headers)


async def test_applicants_see_only_their_own_cases(app, signer, publish_matter):
    await publish_matter()
    body = {"matter_code": "11000000000001"}
    async with (
        client(app, signer, audience="intake", subject=APPLICANT) as alice,
        client(app, signer, audience="intake", subject="91350100M000100Y43") as bob,
    ):
        mine = [(await alice.post("/api/v1/intake/applications", json=body)).json() for _ in "abc"]
        theirs = (await bob.post("/api/v1/intake/applications", json=body)).json()

        first = (await alice.get("/api/v1/intake/applications", params={"limit": 2})).json()
        second = (
            await alice.get(
                "/api/v1/intake/applications", params={"limit": 2, "cursor": first["next_cursor"]}
            )
        ).json()
        newest_first = [c["case_id"] for c in reversed(mine)]
        assert [c["case_id"] for c in first["items"]] == newest_first[:2]
        assert [c["case_id"] for c in second["items"]] == newest_first[2:]
        assert second["next_cursor"] is None
        assert [c["channel"] for c in second["items"]] == ["online"]

        listed_by_bob = (await bob.get("/api/v1/intake/applications")).json()
        assert [c["case_id"] for c in listed_by_bob["items"]] == [theirs["case_id"]]

        own = await alice.get(f"/api/v1/intake/applications/{mine[0]['case_id']}")
        assert (own.status_code, own.json()) == (200, mine[0])
        other = await bob.get(f"/api/v1/intake/applications/{mine[0]['case_id']}")
        assert other.status_code == 404
        assert other.headers["content-type"] == "application/problem+json"
        assert other.json()["code"] == "case_not_found"


async def test_bad_input_is_a_problem_not_a_500(app, signer, publish_matter):
    await publish_matter()
    url = "/api/v1/intake/applications"
    async with client(app, signer, audience="intake", subject=APPLICANT) as api:
        unknown = await api.post(url, json={"matter_code": "99000000000009"})
        assert unknown.status_code == 422
        assert unknown.headers["content-type"] == "application/problem+json"
        assert (unknown.json()["code"], unknown.json()["title"]) == (
            "matter_unknown",
            "事项不存在或未发布",
        )
        english = await api.post(
            url, json={"matter_code": "99000000000009"}, headers={"Accept-Language": "en"}
        )
        assert english.json()["title"] == "Matter unknown or not published"

        good = {"matter_code": "11000000000001"}
        for bad in (
            {**good, "channel": "phone"},
            {**good, "form": {f"field{i}": i for i in range(51)}},
            {**good, "form": {"nested": {"a": 1}}},
            {**good, "form": {"": "empty key"}},
            {**good, "applicant": APPLICANT},
            {"matter_code": "not a code"},
            {},
        ):
            response = await api.post(url, json=bad)
            assert (response.status_code, response.json()["code"]) == (422, "validation_failed")
        not_json = await api.post(url, content=b"{", headers={"content-type": "application/json"})
        assert not_json.status_code == 422

        for cursor in ("%%%", "bm90LWEtY3Vyc29y", "MjAyNi0xMS0yM3w"):  # junk, no "|", no id
            listed = await api.get(url, params={"cursor": cursor})
            assert (listed.status_code, listed.json()["code"]) == (400, "invalid_cursor")
        too_many = await api.get(url, params={"limit": 0})
        assert too_many.status_code == 422

        async with app.state.runtime.sessions() as s:
            assert await s.scalar(select(func.count()).select_from(Case)) == 0
            assert await s.scalar(select(func.count()).select_from(outbox)) == 0

    # The 50-key limit itself is accepted.
    assert ApplicationCreate(**good, form={f"f{i}": i for i in range(50)}).form["f49"] == 49


async def test_requests_without_a_valid_internal_token_are_refused(app, signer):
    async with client(app, None, audience="intake") as anonymous:
        response = await anonymous.get("/api/v1/intake/applications")
        assert (response.status_code, response.json()["code"]) == (401, "unauthenticated")
        assert (await anonymous.get("/healthz")).status_code == 200
    async with client(app, signer, audience="matters") as wrong_audience:
        response = await wrong_audience.post(
            "/api/v1/intake/applications", json={"matter_code": "11000000000001"}
        )
        assert response.status_code == 401
