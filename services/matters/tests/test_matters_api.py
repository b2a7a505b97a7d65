"""The matters API on both backends: publishing writes the matter and its event together."""

from __future__ import annotations

import socket

from sqlalchemy import func, select

from matters.main import create_app
from matters.models import Matter, outbox
from matters.settings import Settings
from yiwang_platform.testing import all_relayed, client, running

BIRTH_CERTIFICATE = {
    "code": "11000000000001",
    "name": "出生医学证明签发",
    "kind": "行政确认",
    "department": "市卫生健康委员会",
    "promised_days": 5,
}


async def test_publish_versions_list_and_event(matters_app, signer):
    app = await matters_app(seed=False)
    async with running(app), client(app, signer, audience="matters", roles=["catalogue"]) as api:
        first = await api.post("/api/v1/matters/matters", json=BIRTH_CERTIFICATE)
        second = await api.post(
            "/api/v1/matters/matters", json={**BIRTH_CERTIFICATE, "promised_days": 3}
        )
        assert (first.status_code, first.json()["version"]) == (201, 1)
        assert (second.status_code, second.json()["version"]) == (201, 2)

        listed = (await api.get("/api/v1/matters/matters")).json()
        assert [(m["code"], m["version"], m["promised_days"]) for m in listed["items"]] == [
            ("11000000000001", 2, 3)
        ]

        runtime = app.state.runtime

        await all_relayed(app, outbox)
        assert runtime.relay.published == 2


async def test_idempotency_key_replays_and_rejects_a_different_body(matters_app, signer):
    app = await matters_app(seed=False)
    async with running(app), client(app, signer, audience="matters", roles=["catalogue"]) as api:
        headers = {"Idempotency-Key": "publish-1"}
        first = await api.post("/api/v1/matters/matters", json=BIRTH_CERTIFICATE, headers=headers)
        again = await api.post("/api/v1/matters/matters", json=BIRTH_CERTIFICATE, headers=headers)
        other = await api.post(
            "/api/v1/matters/matters",
            json={**BIRTH_CERTIFICATE, "name": "另一个事项"},
            headers=headers,
        )
        assert first.status_code == again.status_code == 201
        assert again.json() == first.json()
        assert other.status_code == 409
        assert other.json()["code"] == "idempotency_key_reused"
        async with app.state.runtime.sessions() as s:
            assert await s.scalar(select(func.count()).select_from(Matter)) == 1
            assert await s.scalar(select(func.count()).select_from(outbox)) == 1


async def test_bad_input_is_a_problem_not_a_500(matters_app, signer):
    app = await matters_app(seed=False)
    async with running(app), client(app, signer, audience="matters", roles=["catalogue"]) as api:
        bad = await api.post("/api/v1/matters/matters", json={**BIRTH_CERTIFICATE, "kind": "随便"})
        assert bad.status_code == 422
        assert bad.headers["content-type"] == "application/problem+json"
        assert bad.json()["code"] == "validation_failed"
        missing = await api.get("/api/v1/matters/matters/NOPE0000")
        assert (missing.status_code, missing.json()["code"]) == (404, "matter_not_found")
        english = await api.get(
            "/api/v1/matters/matters/NOPE0000", headers={"Accept-Language": "en"}
        )
        assert english.json()["title"] == "Matter not found"


async def test_requests_without_a_valid_internal_token_are_refused(matters_app, signer):
    app = await matters_app(seed=False)
    async with running(app):
        async with client(app, None, audience="matters") as anonymous:
            assert (await anonymous.get("/api/v1/matters/matters")).status_code == 401
        async with client(app, signer, audience="intake") as wrong_audience:
            assert (await wrong_audience.get("/api/v1/matters/matters")).status_code == 401
        async with client(app, signer, audience="matters", roles=["catalogue"]) as api:
            ready = await api.get("/readyz")
            assert ready.status_code == 200
            assert ready.json()["checks"] == {"database": "ok"}
            status = (await api.get("/status")).json()
            assert (status["status"], status["dependencies"]) == ("ok", {"bus": "ok"})


async def test_ready_while_kafka_is_unreachable_which_status_and_metrics_show(backend, verifier):
    # A port nothing listens on: Kafka is down for this service.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"127.0.0.1:{probe.getsockname()[1]}"
    app = create_app(
        await backend.settings(Settings, seed_catalogue=False, bus="kafka", kafka_bootstrap=dead),
        verifier=verifier,
        configure_logs=False,
    )
    async with running(app), client(app, None, audience="matters") as api:
        ready = await api.get("/readyz")
        assert (ready.status_code, ready.json()) == (
            200,
            {"status": "ok", "checks": {"database": "ok"}},
        )
        status = await api.get("/status")
        assert (status.status_code, status.json()["status"]) == (200, "degraded")
        assert status.json()["dependencies"] == {"bus": "unavailable"}
        metrics = (await api.get("/metrics")).text
        assert 'yiwang_dependency_up{dependency="bus",service="matters"} 0.0' in metrics


async def test_citizens_read_but_do_not_publish(matters_app, signer):
    app = await matters_app(seed=False)
    async with (
        running(app),
        client(app, signer, audience="matters", principal_type="citizen") as citizen,
    ):
        refused = await citizen.post("/api/v1/matters/matters", json=BIRTH_CERTIFICATE)
        assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
        assert (await citizen.get("/api/v1/matters/matters")).json()["items"] == []


async def test_an_integer_past_the_database_range_is_a_400_problem(matters_app, signer):
    app = await matters_app(seed=False)
    huge = 2**70
    async with running(app), client(app, signer, audience="matters", roles=["catalogue"]) as api:
        assert (
            await api.post("/api/v1/matters/matters", json=BIRTH_CERTIFICATE)
        ).status_code == 201
        answers = [
            await api.get(f"/api/v1/matters/matters/{BIRTH_CERTIFICATE['code']}?version={huge}"),
            await api.get(f"/api/v1/matters/bundles/BIRTH?version={huge}"),
            await api.post(
                "/api/v1/matters/matters", json={**BIRTH_CERTIFICATE, "promised_days": huge}
            ),
        ]
        for answer in answers:
            assert answer.status_code in (400, 422), answer.text
            assert answer.headers["content-type"] == "application/problem+json"
