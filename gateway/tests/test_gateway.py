"""The gateway in front of a real service app: authentication, routing with an
internal token, audit entries and their events, readiness of the services."""

from __future__ import annotations

import socket

from sqlalchemy import func, select

from gateway.identity.principal import Principal
from gateway.models import audit_entries, outbox
from gateway.tests.conftest import api_keys, gateway_client
from yiwang_platform.testing import eventually, running

OPERATOR_KEY = "operator-key-for-tests"
CITIZEN_KEY = "citizen-key-for-tests"
API_KEYS = api_keys(
    {
        OPERATOR_KEY: Principal("op-1", "operator", roles=("operator",)),
        CITIZEN_KEY: Principal("c-1", "citizen"),
    }
)
MATTER = {
    "code": "11000000000002",
    "name": "户口登记",
    "kind": "行政确认",
    "department": "市公安局",
    "promised_days": 3,
}


async def _apps(service_app, gateway_app):
    service = await service_app("matters", seed_catalogue=False)
    return service, await gateway_app({"matters": service}, api_keys=API_KEYS)


def _client(app, key: str | None = None):
    return gateway_client(app, **({"X-Api-Key": key} if key else {}))


async def test_routes_with_an_internal_token_and_records_every_access(service_app, gateway_app):
    service, front = await _apps(service_app, gateway_app)
    async with running(service), running(front), _client(front, OPERATOR_KEY) as api:
        created = await api.post("/api/v1/matters/matters", json=MATTER)
        assert created.status_code == 201, created.text
        listed = await api.get("/api/v1/matters/matters")
        assert [m["code"] for m in listed.json()["items"]] == ["11000000000002"]

        runtime = front.state.runtime

        async def recorded() -> bool:
            async with runtime.sessions() as s:
                return await s.scalar(select(func.count()).select_from(audit_entries)) == 2

        await eventually(recorded)

        async def relayed() -> bool:
            async with runtime.sessions() as s:
                n = await s.scalar(
                    select(func.count())
                    .select_from(outbox)
                    .where(outbox.c.published_at.is_not(None))
                )
            return n == 2

        await eventually(relayed)
        records = (await api.get("/api/v1/gateway/audit")).json()["items"]
        assert [
            (r["seq"], r["entry"]["method"], r["entry"]["service"], r["entry"]["status"])
            for r in records
        ] == [(2, "GET", "matters", 200), (1, "POST", "matters", 201)]
        assert {(r["entry"]["subject"], r["entry"]["decision"]) for r in records} == {
            ("op-1", "allowed")
        }


async def test_refuses_callers_without_a_known_key(service_app, gateway_app):
    service, front = await _apps(service_app, gateway_app)
    async with running(service), running(front):
        async with _client(front) as anonymous:
            response = await anonymous.get("/api/v1/matters/matters")
            assert response.status_code == 401
            assert response.json()["code"] == "unauthenticated"
        async with _client(front, "not-a-key") as stranger:
            assert (await stranger.get("/api/v1/matters/matters")).status_code == 401
        async with _client(front, CITIZEN_KEY) as citizen:
            forbidden = await citizen.get("/api/v1/gateway/audit")
            assert (forbidden.status_code, forbidden.json()["code"]) == (403, "forbidden")
            unknown = await citizen.get("/api/v1/nowhere/things")
            assert (unknown.status_code, unknown.json()["code"]) == (404, "not_found")


async def test_ready_while_services_are_down_which_status_and_metrics_show(
    service_app, gateway_app
):
    service, front = await _apps(service_app, gateway_app)
    async with running(service), running(front), _client(front) as api:
        assert (await api.get("/healthz")).status_code == 200
        # Only matters is up in this test; the others point at a closed port. The gateway
        # still serves matters, so it stays in rotation.
        ready = await api.get("/readyz")
        assert (ready.status_code, ready.json()) == (
            200,
            {"status": "ok", "checks": {"database": "ok"}},
        )
        status = await api.get("/status")
        assert status.status_code == 200
        body = status.json()
        assert body["status"] == "degraded"
        assert body["services"] == {
            "matters": "ok",
            "intake": "unreachable",
            "license": "unreachable",
            "data-exchange": "unreachable",
            "supervision": "unreachable",
        }
        assert body["dependencies"] == {"bus": "ok", "redis": "ok"}
        metrics = (await api.get("/metrics")).text
        assert 'yiwang_dependency_up{dependency="intake",service="gateway"} 0.0' in metrics
        assert 'yiwang_dependency_up{dependency="matters",service="gateway"} 1.0' in metrics
        async with _client(front, OPERATOR_KEY) as caller:
            assert (await caller.get("/api/v1/matters/matters")).status_code == 200
            down = await caller.get("/api/v1/intake/applications")
            assert (down.status_code, down.json()["code"]) == (503, "upstream_unavailable")


async def test_ready_while_redis_is_down_which_status_shows(gateway_app):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"redis://127.0.0.1:{probe.getsockname()[1]}/0"
    front = await gateway_app(api_keys=API_KEYS, redis_url=dead)
    async with running(front), _client(front) as api:
        # Every replica shares Redis: readiness leaves it out (see the README, Health).
        assert (await api.get("/readyz")).status_code == 200
        status = (await api.get("/status")).json()
        assert (status["status"], status["dependencies"]["redis"]) == ("degraded", "unavailable")
