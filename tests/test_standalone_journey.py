"""The standalone platform (``make run``) end to end through the gateway: every service
publishes an event that another consumes, over the in-process bus and SQLite."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from stdnum.cn import ric

import gateway.settings
from gateway.admin import add_staff
from yiwang_platform.testing import eventually
from yiwang_standalone.main import build

MATTER = {
    "code": "11000000000003",
    "name": "医保参保登记",
    "kind": "公共服务",
    "department": "市医疗保障局",
    "promised_days": 5,
}


def synthetic_id_number() -> str:
    body = "33010620230101001"  # synthetic: Hangzhou, born 2023-01-01
    return body + ric.calc_check_digit(body + "0")  # the function expects a placeholder check digit


async def test_one_journey_through_every_service(tmp_path: Path):
    app, keys = build(tmp_path)
    assert set(keys) == {"operator", "staff", "citizen", "county", "supervisor"}
    on_disk = json.loads((tmp_path / "dev-api-keys.json").read_text())
    assert on_disk == keys

    def as_(who: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://yiwang",
            headers={"X-Api-Key": keys[who]},
        )

    async with (
        app.router.lifespan_context(app),
        as_("operator") as operator,
        as_("citizen") as citizen,
        as_("staff") as staff,
    ):
        ready = await operator.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["services"] == {
            "matters": "ok",
            "intake": "ok",
            "license": "ok",
            "data-exchange": "ok",
            "supervision": "ok",
        }

        # matters -> intake: the published matter reaches intake's catalogue.
        assert (await operator.post("/api/v1/matters/matters", json=MATTER)).status_code == 201
        applied: dict[str, httpx.Response] = {}

        async def application_accepted() -> bool:
            response = await citizen.post(
                "/api/v1/intake/applications", json={"matter_code": MATTER["code"]}
            )
            assert response.status_code in (201, 422), response.text
            applied["response"] = response
            return response.status_code == 201

        await eventually(application_accepted)
        case = applied["response"].json()
        assert (case["matter_code"], case["matter_version"], case["status"]) == (
            MATTER["code"],
            1,
            "submitted",
        )

        # intake -> supervision: the case is watched against its deadline.
        async def watched() -> bool:
            items = (await operator.get("/api/v1/supervision/cases")).json()["items"]
            return [w["case_id"] for w in items] == [case["case_id"]]

        await eventually(watched)

        # The window accepts; the department approves: the case completes.
        accepted = await staff.post(
            f"/api/v1/intake/cases/{case['case_id']}/acceptance", json={"mode": "full"}
        )
        assert accepted.status_code == 200, accepted.text
        [subcase] = accepted.json()["subcases"]
        password = "reviewer password 1"
        personal_key = await add_staff(
            gateway.settings.Settings(var_dir=tmp_path, database_url=""),
            "r-0001",
            department=MATTER["department"],
            roles=["reviewer"],
            password=password,
        )
        signed_in = await operator.post(
            "/api/v1/auth/staff/sessions",
            json={"staff_id": "r-0001", "password": password, "personal_key": personal_key},
        )
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://yiwang",
            headers={"Authorization": f"Bearer {signed_in.json()['access_token']}"},
        ) as reviewer:
            decided = await reviewer.post(
                f"/api/v1/intake/subcases/{subcase['subcase_id']}/decision",
                json={"decision": "approved"},
            )
        assert decided.status_code == 200, decided.text

        # intake -> supervision -> intake: once supervision saw the case completed, the
        # applicant's bad review shows on the case.
        async def reviewed() -> bool:
            review = await citizen.post(
                "/api/v1/supervision/reviews", json={"case_id": case["case_id"], "rating": 1}
            )
            assert review.status_code in (201, 409), review.text
            return review.status_code == 201

        await eventually(reviewed)

        async def rated() -> bool:
            mine = (await citizen.get(f"/api/v1/intake/applications/{case['case_id']}")).json()
            return (mine["rating"], mine["grade"]) == (1, "bad")

        await eventually(rated)

        # license -> data-exchange: an issued license is indexed for its holder.
        issued = await staff.post(
            "/api/v1/license/licenses",
            json={
                "license_type": "CN-BIRTH-CERT",
                "holder_kind": "citizen",
                "holder_id": synthetic_id_number(),
                "holder_name": "王小明",
                "fields": {"出生日期": "2023-01-01"},
            },
        )
        assert issued.status_code == 201, issued.text
        license_ = issued.json()
        assert (
            license_["holder_id"].startswith("330106") and "20230101" not in license_["holder_id"]
        )

        async def indexed() -> bool:
            found = await staff.get(
                "/api/v1/data-exchange/licenses", params={"holder_index": license_["holder_index"]}
            )
            return [x["license_id"] for x in found.json()["items"]] == [license_["license_id"]]

        await eventually(indexed)

        # license, gateway -> supervision: counters.
        async def counted() -> bool:
            counters = (await operator.get("/api/v1/supervision/metrics")).json()["counters"]
            issued_by_type = counters.get("licenses_issued_by_type", {})
            accesses = counters.get("gateway_accesses_by_service_status", {})
            return issued_by_type == {"CN-BIRTH-CERT": 1} and accesses.get("license:2xx") == 1

        await eventually(counted)
