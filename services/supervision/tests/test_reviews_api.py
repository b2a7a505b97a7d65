"""Reviews (好差评) on both backends: one per watched case, announced through the outbox."""

from __future__ import annotations

import json
import uuid
from datetime import datetime

from sqlalchemy import func, select

from supervision.models import Review, idempotency, outbox
from yiwang_platform.testing import client, eventually

URL = "/api/v1/supervision/reviews"
CITIZEN = "110101199003074514"


async def test_review_a_case_once_and_publish_it(app, signer, submit_case, read_topic):
    case = await submit_case()
    body = {"case_id": case["case_id"], "rating": 2, "comment": "等待时间太长"}
    async with client(app, signer, "supervision", subject=CITIZEN) as api:
        headers = {"Idempotency-Key": "review-1"}
        created = await api.post(URL, json=body, headers=headers)
        again = await api.post(URL, json=body, headers=headers)
        second = await api.post(
            URL, json={**body, "rating": 5}, headers={"Idempotency-Key": "review-2"}
        )
        citizen_listing = await api.get(URL)
    async with client(app, signer, "supervision", principal_type="supervisor") as api:
        listed = (await api.get(URL)).json()
        good = (await api.get(URL, params={"grade": "good"})).json()
        bad = (await api.get(URL, params={"grade": "bad"})).json()

    assert created.status_code == 201
    review = created.json()
    assert review == {
        "id": review["id"],
        "case_id": case["case_id"],
        "rating": 2,
        "grade": "bad",
        "comment": "等待时间太长",
        "channel": "app",
        "submitted_at": review["submitted_at"],
    }
    assert (again.status_code, again.json()) == (201, review)
    assert (second.status_code, second.json()["code"]) == (409, "review_exists")
    assert second.json()["title"] == "该办件已评价"
    assert (citizen_listing.status_code, citizen_listing.json()["code"]) == (403, "forbidden")
    assert listed == {"items": [review], "next_cursor": None}
    assert good["items"] == []
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
        rows = (await s.execute(select(outbox))).all()
        principals = (await s.scalars(select(idempotency.c.principal))).all()
    assert [(r.topic, r.message_key) for r in rows] == [("supervision.review.v1", case["case_id"])]
    assert json.loads(rows[0].payload) == expected_event
    # Idempotency keys are scoped by the reviewer's blind index, not the identifier itself.
    assert len(principals) == 1 and CITIZEN not in principals[0]

    async def relayed() -> bool:
        async with runtime.sessions() as s:
            pending = await s.scalar(
                select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
            )
        return pending == 0

    await eventually(relayed)
    assert runtime.relay.published == 1
    messages = await read_topic("supervision.review.v1", 1)
    assert len(messages) == 1
    assert dict(messages[0].headers)["ce_type"] == b"gov.supervision.review.submitted.v1"
    assert messages[0].key == case["case_id"].encode()
    assert json.loads(messages[0].value) == expected_event
    assert datetime.fromisoformat(review["submitted_at"]).tzinfo is not None


async def test_reviews_page_newest_first(app, signer, submit_case):
    cases = [await submit_case() for _ in range(3)]
    async with client(app, signer, "supervision", principal_type="supervisor") as api:
        ids = []
        for rating, case in zip((3, 1, 5), cases, strict=True):
            response = await api.post(URL, json={"case_id": case["case_id"], "rating": rating})
            assert (response.status_code, response.json()["channel"]) == (201, "app")
            ids.append(response.json()["id"])
        first = (await api.get(URL, params={"limit": 2})).json()
        second = (await api.get(URL, params={"limit": 2, "cursor": first["next_cursor"]})).json()
    assert [r["id"] for r in first["items"] + second["items"]] == ids[::-1]
    assert [r["grade"] for r in first["items"] + second["items"]] == ["good", "bad", "good"]
    assert second["next_cursor"] is None


async def test_bad_reviews_are_problems_not_500s(app, signer, submit_case):
    case = await submit_case()
    async with client(app, signer, "supervision", principal_type="supervisor") as api:
        stranger = str(uuid.uuid4())
        unknown = await api.post(URL, json={"case_id": stranger, "rating": 4})
        assert unknown.status_code == 422
        assert unknown.headers["content-type"] == "application/problem+json"
        assert (unknown.json()["code"], unknown.json()["title"]) == ("case_unknown", "办件不存在")

        good = {"case_id": case["case_id"], "rating": 4}
        for bad in (
            {**good, "rating": 0},
            {**good, "rating": 6},
            {**good, "rating": "five"},
            {**good, "comment": "差" * 501},
            {**good, "channel": "APP!"},
            {**good, "reviewer": CITIZEN},
            {"rating": 4},
        ):
            response = await api.post(URL, json=bad)
            assert (response.status_code, response.json()["code"]) == (422, "validation_failed")

        for params, status, code in (
            ({"grade": "meh"}, 422, "validation_failed"),
            ({"cursor": "%%%"}, 400, "invalid_cursor"),
            ({"cursor": "bm8tdGltZXxpZA"}, 400, "invalid_cursor"),  # "no-time|id"
        ):
            response = await api.get(URL, params=params)
            assert (response.status_code, response.json()["code"]) == (status, code)

        async with app.state.runtime.sessions() as s:
            assert await s.scalar(select(func.count()).select_from(Review)) == 0
            assert await s.scalar(select(func.count()).select_from(outbox)) == 0

        longest = await api.post(URL, json={**good, "comment": "好" * 500, "channel": "window"})
        assert (longest.status_code, longest.json()["channel"]) == (201, "window")

    async with client(app, None, "supervision") as anonymous:
        assert (await anonymous.post(URL, json=good)).status_code == 401
