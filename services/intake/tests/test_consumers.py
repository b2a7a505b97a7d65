"""Events intake consumes, on both backends: matter versions and reviews of its cases;
redelivery applies once, and what cannot be applied goes to the dead-letter topic."""

from __future__ import annotations

import json
import uuid

from sqlalchemy import func, select

from intake import catalogue
from intake.events import MatterPublishedIn
from intake.handlers import on_matter_published
from intake.models import Case, MatterVersion
from yiwang_platform.events import CloudEvent
from yiwang_platform.testing import client, eventually

from .factories import BIRTH_CERTIFICATE

MATTERS_TOPIC = "matters.matter.v1"
MATTER_PUBLISHED = "gov.matters.matter.published.v1"
REVIEWS_TOPIC = "supervision.review.v1"
REVIEW_SUBMITTED = "gov.supervision.review.submitted.v1"


async def _versions(app, code: str) -> list[tuple[int, int]]:
    async with app.state.runtime.sessions() as s:
        rows = await s.execute(
            select(MatterVersion.version, MatterVersion.promised_days)
            .where(MatterVersion.code == code)
            .order_by(MatterVersion.version)
        )
    return [(r.version, r.promised_days) for r in rows]


async def test_an_older_version_arriving_late_does_not_become_current(app, signer, publish_matter):
    await publish_matter(version=2, promised_days=3, name="出生医学证明签发（新）")
    await publish_matter(version=1, promised_days=10)
    assert await _versions(app, "11000000000001") == [(1, 10), (2, 3)]

    async with client(app, signer, audience="intake", subject="citizen-1") as api:
        created = await api.post(
            "/api/v1/intake/applications", json={"matter_code": "11000000000001"}
        )
    case = created.json()
    assert (case["matter_version"], case["promised_days"], case["matter_name"]) == (
        2,
        3,
        "出生医学证明签发（新）",
    )


async def test_a_redelivered_event_is_applied_once(app, publish, publish_matter):
    data = {
        "code": "11000000000002",
        "version": 1,
        "name": "结婚登记",
        "kind": "行政确认",
        "department": "市民政局",
        "promised_days": 1,
        "published_at": "2026-11-02T08:00:00Z",
    }
    first = await publish(MATTERS_TOPIC, MATTER_PUBLISHED, data["code"], data)
    await publish(MATTERS_TOPIC, MATTER_PUBLISHED, data["code"], event=first)
    # A later event on the same key shows the duplicate before it was consumed.
    await publish_matter(code="11000000000002", version=2, promised_days=2)

    assert await _versions(app, "11000000000002") == [(1, 1), (2, 2)]
    assert app.state.runtime.consumer.applied == 2
    async with app.state.runtime.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(MatterVersion)) == 2


async def test_an_event_failing_its_schema_is_dead_lettered_and_the_next_applied(
    app, publish, publish_matter, read_topic
):
    bad = {
        "code": "11000000000001",
        "version": 1,
        "name": "出生医学证明签发",
        "kind": "行政确认",
        "department": "市卫生健康委员会",
        "published_at": "2026-11-02T08:00:00Z",
    }
    await publish(MATTERS_TOPIC, MATTER_PUBLISHED, bad["code"], bad)
    await publish_matter(version=2)

    assert await _versions(app, "11000000000001") == [(2, 5)]
    dead = await read_topic(MATTERS_TOPIC + ".dlq", 1)
    assert len(dead) == 1
    headers = dict(dead[0].headers)
    assert headers["dlq_reason"] == b"schema: (root): 'promised_days' is a required property"
    assert headers["dlq_consumer"] == b"intake"
    assert headers["dlq_original_topic"] == MATTERS_TOPIC.encode()
    assert (dead[0].key, json.loads(dead[0].value)) == (b"11000000000001", bad)


async def _submit_case(app, signer) -> str:
    async with client(app, signer, audience="intake", subject="citizen-1") as api:
        created = await api.post(
            "/api/v1/intake/applications", json={"matter_code": "11000000000001"}
        )
    assert created.status_code == 201
    return str(created.json()["case_id"])


def _review(case_id: str, rating: int, grade: str) -> dict[str, object]:
    return {
        "review_id": str(uuid.uuid4()),
        "case_id": case_id,
        "rating": rating,
        "grade": grade,
        "channel": "app",
        "submitted_at": "2026-11-20T02:30:00Z",
    }


async def test_a_review_is_recorded_on_its_case(app, signer, publish, publish_matter):
    await publish_matter()
    case_id = await _submit_case(app, signer)
    await publish(REVIEWS_TOPIC, REVIEW_SUBMITTED, case_id, _review(case_id, 2, "bad"))

    async def rated() -> bool:
        async with app.state.runtime.sessions() as s:
            case = await s.get(Case, case_id)
        return case is not None and case.rating is not None

    await eventually(rated, timeout=30)
    async with client(app, signer, audience="intake", subject="citizen-1") as api:
        shown = (await api.get(f"/api/v1/intake/applications/{case_id}")).json()
    assert (shown["rating"], shown["grade"], shown["rated_at"]) == (
        2,
        "bad",
        "2026-11-20T02:30:00Z",
    )


async def test_a_review_of_an_unknown_case_is_dead_lettered(
    app, signer, publish, publish_matter, read_topic
):
    await publish_matter()
    case_id = await _submit_case(app, signer)
    stranger = str(uuid.uuid4())
    # Same key for both, so the good review is consumed after the bad one.
    unknown = _review(stranger, 5, "good")
    await publish(REVIEWS_TOPIC, REVIEW_SUBMITTED, case_id, unknown)
    await publish(REVIEWS_TOPIC, REVIEW_SUBMITTED, case_id, _review(case_id, 4, "good"))

    async def rated() -> bool:
        async with app.state.runtime.sessions() as s:
            case = await s.get(Case, case_id)
        return case is not None and case.rating == 4

    await eventually(rated, timeout=30)
    dead = await read_topic(REVIEWS_TOPIC + ".dlq", 1)
    assert len(dead) == 1
    assert dict(dead[0].headers)["dlq_reason"] == f"rejected: unknown case {stranger}".encode()
    assert json.loads(dead[0].value) == unknown


async def test_a_published_matter_keeps_the_elements_it_does_not_model(app):
    runtime = app.state.runtime
    materials = [{"code": "M-ID", "name": "父母身份证明", "form": "原件", "key": True}]
    data = {**BIRTH_CERTIFICATE, "materials": materials, "commitment_allowed": True}
    envelope = CloudEvent(type=MATTER_PUBLISHED, source="/test", data=data, subject=data["code"])
    async with runtime.sessions() as s, s.begin():
        ctx = runtime.handler_context(s, envelope)
        await on_matter_published(ctx, MatterPublishedIn.model_validate(data))
    async with runtime.sessions() as s:
        stored = await catalogue.current(s, data["code"])
    assert stored is not None
    assert stored.elements == {"materials": materials, "commitment_allowed": True}
