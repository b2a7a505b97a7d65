"""People through the standalone platform: sign-up by SMS, real-name binding against
the population library, scenario-scoped reads, and no citizen reaching another's
cases, licenses or data (BOLA), not even by guessing ids."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
from stdnum.cn import ric

from gateway.admin import sms_code_sent
from yiwang_platform.testing import eventually
from yiwang_standalone.main import build


def synthetic_id(region: str, birth: str, sequence: str) -> str:
    body = region + birth + sequence
    return body + ric.calc_check_digit(body + "0")


ALICE = {
    "id_number": synthetic_id("330106", "19900307", "123"),
    "name": "陈一帆",
    "sex": "女",
    "birth_date": "1990-03-07",
}
BOB = {
    "id_number": synthetic_id("330105", "19851111", "456"),
    "name": "林二木",
    "sex": "男",
    "birth_date": "1985-11-11",
}
MATTER = {
    "code": "11000000000021",
    "name": "社会保障卡申领",
    "kind": "公共服务",
    "department": "市人社局",
    "promised_days": 5,
}


async def test_citizens_bind_real_names_and_reach_only_their_own_things(tmp_path: Path):
    app, keys = build(tmp_path)
    sms = tmp_path / "sms-outbox.jsonl"

    def client(**headers: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://yiwang", headers=headers
        )

    async def citizen(phone: str, person: dict[str, str], api: httpx.AsyncClient) -> dict[str, str]:
        assert (await api.post("/api/v1/auth/sms-codes", json={"phone": phone})).status_code == 202
        tokens = (
            await api.post(
                "/api/v1/auth/citizens", json={"phone": phone, "code": sms_code_sent(sms, phone)}
            )
        ).json()
        auth = {"Authorization": f"Bearer {tokens['access_token']}"}
        wrong = await api.post(
            "/api/v1/auth/real-name",
            json={"id_number": person["id_number"], "name": "别人"},
            headers=auth,
        )
        assert (wrong.status_code, wrong.json()["code"]) == (422, "real_name_mismatch")
        bound = await api.post(
            "/api/v1/auth/real-name",
            json={"id_number": person["id_number"], "name": person["name"]},
            headers=auth,
        )
        assert bound.status_code == 200, bound.text
        assert bound.json()["acr"] == "L2"
        return {"Authorization": f"Bearer {bound.json()['access_token']}"}

    async with app.router.lifespan_context(app), client() as api:
        staff = {"X-Api-Key": keys["staff"]}
        operator = {"X-Api-Key": keys["operator"]}
        seeded = await api.post(
            "/api/v1/data-exchange/population/records",
            json={
                "records": [
                    {"source": "330100-county-pop", "source_version": 1, **p} for p in (ALICE, BOB)
                ]
            },
            headers={"X-Api-Key": keys["county"], "X-Scenario": "county-record-push"},
        )
        assert seeded.status_code == 200, seeded.text
        assert [r["status"] for r in seeded.json()["results"]] == ["created", "created"]

        alice = await citizen("13911110001", ALICE, api)
        bob = await citizen("13911110002", BOB, api)

        # Scenario-scoped read of one's own data: the granted fields, nothing more.
        own = await api.get(
            "/api/v1/data-exchange/population/people/self",
            headers={**alice, "X-Scenario": "citizen-self-lookup"},
            params={"id_number": BOB["id_number"]},  # ignored: the subject is the caller
        )
        assert own.status_code == 200, own.text
        assert own.json()["name"] == ALICE["name"]
        no_scenario = await api.get("/api/v1/data-exchange/population/people/self", headers=alice)
        assert (no_scenario.status_code, no_scenario.json()["code"]) == (403, "scenario_required")

        # Cases: Bob cannot see Alice's, even with its id.
        assert (
            await api.post("/api/v1/matters/matters", json=MATTER, headers=operator)
        ).status_code == 201
        created: dict[str, str] = {}

        async def applied() -> bool:
            response = await api.post(
                "/api/v1/intake/applications", json={"matter_code": MATTER["code"]}, headers=alice
            )
            if response.status_code == 201:
                created.update(response.json())
            return response.status_code == 201

        await eventually(applied)
        case_id = created["case_id"]
        assert (
            await api.get(f"/api/v1/intake/applications/{case_id}", headers=alice)
        ).status_code == 200
        assert (
            await api.get(f"/api/v1/intake/applications/{case_id}", headers=bob)
        ).status_code == 404
        assert (
            await api.get(f"/api/v1/intake/applications/{uuid.uuid4()}", headers=bob)
        ).status_code == 404
        assert (await api.get("/api/v1/intake/applications", headers=bob)).json()["items"] == []

        # Licenses: each holder sees their own only.
        issued = await api.post(
            "/api/v1/license/licenses",
            json={
                "license_type": "CN-SSC",
                "holder_kind": "citizen",
                "holder_id": ALICE["id_number"],
                "holder_name": ALICE["name"],
                "fields": {"卡号": "A001"},
            },
            headers=staff,
        )
        assert issued.status_code == 201, issued.text
        license_id = issued.json()["license_id"]
        assert [
            x["license_id"]
            for x in (await api.get("/api/v1/license/licenses", headers=alice)).json()["items"]
        ] == [license_id]
        assert (await api.get("/api/v1/license/licenses", headers=bob)).json()["items"] == []
        assert (
            await api.get(f"/api/v1/license/licenses/{license_id}", headers=bob)
        ).status_code in (403, 404)
