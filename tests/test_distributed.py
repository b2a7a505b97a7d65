"""The distributed run: six processes on PostgreSQL and Kafka, the gateway reaching
the services over HTTP (aiohttp), as ``make up`` starts them."""

from __future__ import annotations

import httpx

from tests.conftest import LocalPlatform
from yiwang_platform.testing import eventually


async def test_gateway_routes_over_http_and_reports_every_service(local_platform: LocalPlatform):
    processes, gateway = await local_platform.start_all(seeded=False)

    keys = local_platform.keys.api_keys()
    async with httpx.AsyncClient(base_url=gateway.url(), timeout=10) as api:
        assert (await api.get("/readyz")).status_code == 200
        status = (await api.get("/status")).json()
        assert status["services"] == dict.fromkeys(
            ["matters", "intake", "license", "data-exchange", "supervision"], "ok"
        )
        assert status["dependencies"] == {"bus": "ok", "redis": "ok"}
        operator = {"X-Api-Key": keys["operator"]}
        matter = {
            "code": "11000000000009",
            "name": "社会保障卡申领",
            "kind": "公共服务",
            "department": "市人力资源和社会保障局",
            "promised_days": 10,
        }
        created = await api.post("/api/v1/matters/matters", json=matter, headers=operator)
        assert created.status_code == 201, created.text

        citizen = {"X-Api-Key": keys["citizen"]}

        async def accepted() -> bool:
            response = await api.post(
                "/api/v1/intake/applications", json={"matter_code": matter["code"]}, headers=citizen
            )
            return response.status_code == 201

        await eventually(accepted, timeout=60)

        async def watched() -> bool:
            items = (await api.get("/api/v1/supervision/cases", headers=operator)).json()["items"]
            return [w["matter_code"] for w in items] == [matter["code"]]

        await eventually(watched, timeout=60)
        docs = await api.get("/openapi/intake.json")
        assert docs.json()["info"]["title"] == "Yiwang intake"

    # A service going away shows in the gateway's status, not its readiness: the
    # gateway still serves the other services.
    processes["license"].kill()
    async with httpx.AsyncClient(base_url=gateway.url(), timeout=10) as api:
        assert (await api.get("/readyz")).status_code == 200
        status = (await api.get("/status")).json()
        assert (status["status"], status["services"]["license"]) == ("degraded", "unreachable")
