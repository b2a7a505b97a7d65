"""A retried submission (same ``Idempotency-Key``) on both backends: the same answer,
rebuilt from the case, while the stored record holds nothing of the form or the
applicant; an expired key opens a new case; a database outage answers 503."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from intake.models import Case, idempotency
from yiwang_platform.testing import database_outage

from .factories import APPLICANT

NAME = "王小明"
FORM = {"child_name": NAME, "mother_id": "11010519491231002X", "copies": 2}
URL = "/api/v1/intake/applications"


async def test_a_replay_answers_the_same_and_the_record_holds_no_personal_data(
    app, citizen, publish_matter
):
    await publish_matter()
    body = {"matter_code": "11000000000001", "channel": "window", "form": FORM}
    async with citizen() as api:
        headers = {"Idempotency-Key": "apply-1"}
        created = await api.post(URL, json=body, headers=headers)
        again = await api.post(URL, json=body, headers=headers)

    assert created.status_code == 201
    assert (again.status_code, again.json()) == (201, created.json())
    async with app.state.runtime.sessions() as s:
        rows = [dict(r._mapping) for r in (await s.execute(select(idempotency))).all()]
        cases = await s.scalar(select(func.count()).select_from(Case))
    assert cases == 1
    [row] = rows
    assert (row["status"], row["resource_id"]) == (201, created.json()["case_id"])
    assert row["body_encrypted"] is None
    stored = json.dumps(row, default=str, ensure_ascii=False)
    for personal in (APPLICANT, NAME, FORM["mother_id"], "child_name"):
        assert personal not in stored


async def test_an_expired_key_submits_afresh(app, citizen, publish_matter):
    await publish_matter()
    first_body = {"matter_code": "11000000000001", "form": FORM}
    async with citizen() as api:
        headers = {"Idempotency-Key": "apply-1"}
        first = await api.post(URL, json=first_body, headers=headers)
        # The record's time to live (24 h by default) has passed.
        async with app.state.runtime.sessions() as s, s.begin():
            past = datetime.now(UTC) - timedelta(seconds=1)
            await s.execute(update(idempotency).values(expires_at=past))
        second = await api.post(
            URL, json={**first_body, "form": {**FORM, "copies": 3}}, headers=headers
        )

    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json()["case_id"] != first.json()["case_id"]


async def test_a_database_outage_answers_503_with_retry_after(
    app, backend, citizen, publish_matter
):
    if backend.database_kind != "postgres":
        pytest.skip("the outage is made on PostgreSQL")
    await publish_matter()
    body = {"matter_code": "11000000000001", "form": FORM}
    async with citizen() as api:
        async with database_outage(app.state.runtime.settings.database_url):
            down = await api.post(URL, json=body, headers={"Idempotency-Key": "apply-1"})
        back = await api.post(URL, json=body, headers={"Idempotency-Key": "apply-1"})

    assert down.status_code == 503
    assert down.headers["content-type"] == "application/problem+json"
    assert down.headers["retry-after"] == "5"
    assert down.json()["code"] == "dependency_unavailable"
    assert back.status_code == 201
