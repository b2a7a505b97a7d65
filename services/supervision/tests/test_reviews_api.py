"""Reviews (好差评) on both backends: only by the applicant, only after completion, once per
case and channel, announced through the outbox; a bad review opens a handling item."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import func, select

from supervision.models import Review, ReviewHandling, idempotency, outbox
from yiwang_platform.testing import all_relayed, client

URL = "/api/v1/supervision/reviews"
CITIZEN = "110101199003074514"
NEIGHBOUR = "110101199003075138"


async def test_review_a_case_once_per_channel_and_publish_it(app, signer, case_events, read_topic):
    case = await case_events.completed_case(applicant=CITIZEN)
    body = {"case_id": case["case_id"], "rating": 2, "comment": "等待时间太长"}
    async with client(
        app, signer, audience="supervision", subject=CITIZEN, principal_type="citizen"
    ) as api:
        headers = {"Idempotency-Key": "review-1"}
        created = await api.post(URL, json=body, headers=headers)
        again = await api.post(URL, json=body, headers=headers)
        second = await api.post(
            URL, json={**body, "rating": 5}, headers={"Idempotency-Key": "review-2"}
        )
        other_channel = await api.post(URL, json={**body, "rating": 5, "channel": "window"})
        citizen_listing = await api.get(URL)
    async with client(app, signer, audience="supervision", principal_type="supervisor") as api:
        listed = (await api.get(URL)).json()
        good = (await api.get(URL, params={"grade": "good"})).json()
        bad = (await api.get(URL, params={"grade": "bad"})).json()

    assert created.status_code == 201
    review = created.json()
    assert review == {
        "id": review["id"],
        "case_id": case["case_id"],
        "rating": 2,
        "rating_label": "不满意",
        "grade": "bad",
        "comment": "等待时间太长",
        "channel": "app",
        "submitted_at": review["submitted_at"],
    }
    assert (again.status_code, again.json()) == (201, review)
    assert (second.status_code, second.json()["code"]) == (409, "review_exists")
    assert second.json()["title"] == "该办件已在此渠道评价"
    assert other_channel.status_code == 201
    window = other_channel.json()
    assert (window["channel"], window["rating_label"], window["grade"]) == (
        "window",
        "非常满意",
        "good",
    )
    assert (citizen_listing.status_code, citizen_listing.json()["code"]) == (403, "forbidden")
    assert listed == {"items": [window, review], "next_cursor": None}
    assert good["items"] == [window]
    assert bad["items"] == [review]

    expected_event = {
        "review_id": review["id"],
        "case_id": case["case_id"],
        "rating": 2,
        "grade": "bad",
        "channel": "app",
        "submitted_at": review["submitted_at"],
    }
    runtime = app.state.runtime
    async with runtime.sessions() as s:
        rows = (await s.execute(select(outbox).order_by(outbox.c.id))).all()
        principals = set((await s.scalars(select(idempotency.c.principal))).all())
    assert [(r.topic, r.message_key) for r in rows] == [
        ("supervision.review.v1", case["case_id"])
    ] * 2
    assert json.loads(rows[0].payload) == expected_event
    # Idempotency keys are scoped by the reviewer's blind index, not the identifier itself.
    assert principals == {case_events.applicant_index(CITIZEN)}

    await all_relayed(app, outbox)
    assert runtime.relay.published == 2
    messages = await read_topic("supervision.review.v1", 2)
    assert len(messages) == 2
    first = next(m for m in messages if json.loads(m.value)["review_id"] == review["id"])
    assert dict(first.headers)["ce_type"] == b"gov.supervision.review.submitted.v1"
    assert first.key == case["case_id"].encode()
    assert json.loads(first.value) == expected_event
    assert datetime.fromisoformat(review["submitted_at"]).tzinfo is not None


async def test_only_the_applicant_reviews_and_only_after_completion(app, signer, case_events):
    done = await case_events.completed_case(applicant=CITIZEN)
    anonymous_case = await case_events.completed_case(applicant=None)
    running = await case_events.submitted(applicant=CITIZEN)
    accepted = await case_events.submitted(applicant=CITIZEN)
    await case_events.accepted(accepted["case_id"], "2026-09-30T03:00:00Z", "2026-10-09", [])
    refused = await case_events.submitted(applicant=CITIZEN)
    await case_events.refused(refused["case_id"], "2026-09-30T03:00:00Z", "不属于本部门职责")
    await case_events.settle()

    def review(case: dict) -> dict:
        return {"case_id": case["case_id"], "rating": 4}

    async with client(
        app, signer, audience="supervision", subject=NEIGHBOUR, principal_type="citizen"
    ) as api:
        # Someone else's case answers as a case that does not exist.
        for body in (review(done), review(anonymous_case), {"case_id": "x", "rating": 4}):
            response = await api.post(URL, json=body)
            assert response.status_code == 404
            assert response.headers["content-type"] == "application/problem+json"
            assert (response.json()["code"], response.json()["title"]) == (
                "case_not_found",
                "办件不存在",
            )
    async with client(app, signer, audience="supervision", principal_type="supervisor") as api:
        response = await api.post(URL, json=review(done))
        assert (response.status_code, response.json()["code"]) == (404, "case_not_found")
    async with client(
        app, signer, audience="supervision", subject=CITIZEN, principal_type="citizen"
    ) as api:
        for case in (running, accepted, refused):
            response = await api.post(URL, json=review(case))
            assert (response.status_code, response.json()["code"]) == (409, "case_not_completed")
            assert response.json()["title"] == "办件尚未办结，暂不能评价"
        assert (await api.post(URL, json=review(done))).status_code == 201
    async with app.state.runtime.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Review)) == 1


async def test_reviews_page_newest_first(app, signer, case_events):
    cases = [await case_events.completed_case(applicant=CITIZEN) for _ in range(3)]
    async with client(
        app, signer, audience="supervision", subject=CITIZEN, principal_type="citizen"
    ) as api:
        ids = []
        for rating, case in zip((3, 1, 5), cases, strict=True):
            response = await api.post(URL, json={"case_id": case["case_id"], "rating": rating})
            assert (response.status_code, response.json()["channel"]) == (201, "app")
            ids.append(response.json()["id"])
    async with client(app, signer, audience="supervision", principal_type="supervisor") as api:
        first = (await api.get(URL, params={"limit": 2})).json()
        second = (await api.get(URL, params={"limit": 2, "cursor": first["next_cursor"]})).json()
    assert [r["id"] for r in first["items"] + second["items"]] == ids[::-1]
    assert [r["grade"] for r in first["items"] + second["items"]] == ["good", "bad", "good"]
    assert [r["rating_label"] for r in first["items"] + second["items"]] == [
        "非常满意",
        "非常不满意",
        "基本满意",
    ]
    assert second["next_cursor"] is None


async def test_bad_reviews_are_problems_not_500s(app, signer, case_events):
    case = await case_events.completed_case(applicant=CITIZEN)
    async with client(
        app, signer, audience="supervision", subject=CITIZEN, principal_type="citizen"
    ) as api:
        good = {"case_id": case["case_id"], "rating": 4}
        for bad in (
            {**good, "rating": 0},
            {**good, "rating": 6},
            {**good, "rating": "five"},
            {**good, "comment": "差" * 501},
            {**good, "channel": "APP!"},
            {**good, "reviewer": CITIZEN},
            {"rating": 4},
            {**good, "case_id": "x" * 37},
        ):
            response = await api.post(URL, json=bad)
            assert (response.status_code, response.json()["code"]) == (422, "validation_failed")
            assert CITIZEN not in response.text
        response = await api.post(
            URL, content=b"{not json", headers={"content-type": "application/json"}
        )
        assert (response.status_code, response.json()["code"]) == (422, "validation_failed")

        async with app.state.runtime.sessions() as s:
            assert await s.scalar(select(func.count()).select_from(Review)) == 0
            assert await s.scalar(select(func.count()).select_from(outbox)) == 0
            assert await s.scalar(select(func.count()).select_from(ReviewHandling)) == 0

        longest = await api.post(URL, json={**good, "comment": "好" * 500, "channel": "window"})
        assert (longest.status_code, longest.json()["channel"]) == (201, "window")

    async with client(app, signer, audience="supervision", principal_type="supervisor") as api:
        for params, status, code in (
            ({"grade": "meh"}, 422, "validation_failed"),
            ({"cursor": "%%%"}, 400, "invalid_cursor"),
            ({"cursor": "bm8tdGltZXxpZA"}, 400, "invalid_cursor"),  # "no-time|id"
        ):
            response = await api.get(URL, params=params)
            assert (response.status_code, response.json()["code"]) == (status, code)

    async with client(app, None, audience="supervision") as anonymous:
        assert (await anonymous.post(URL, json=good)).status_code == 401


async def test_a_handling_id_the_database_cannot_hold_is_a_client_error(app, signer):
    # PostgreSQL refuses a NUL byte in text: a problem, not a 500.
    async with client(app, signer, audience="supervision", principal_type="supervisor") as api:
        answers = [
            await api.post(
                "/api/v1/supervision/review-handlings/abc%00def/resolution", json={"note": "已处理"}
            ),
            await api.get("/api/v1/supervision/cases/abc%00def/timeline"),
        ]
    for answer in answers:
        assert answer.status_code in (400, 404, 422), answer.text
        assert answer.headers["content-type"] == "application/problem+json"
