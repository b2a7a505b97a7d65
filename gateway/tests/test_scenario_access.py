"""Per-scenario authorisation end to end: the gateway in front of the real intake and
data-exchange apps, on both backends. Every refusal reason over HTTP, grants that never
yield a field outside them, a citizen confined to their own record (BOLA), staff
confined to the applicants of their own cases, rate limits and a
policy edited while requests keep flowing."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import httpx

from gateway.identity.principal import Principal
from gateway.settings import default_policies_dir
from gateway.tests.conftest import act_as, gateway_client, id_number, parts, person
from yiwang_platform.keyvalue import KeyValueStore
from yiwang_platform.testing import client, eventually, running

SELF = "/api/v1/data-exchange/population/people/self"
BOUND = "/api/v1/data-exchange/population/people/bound"
VERIFY = "/api/v1/data-exchange/verify"
ALL = ["name", "sex", "ethnicity", "birth_date", "household_address", "marital_status"]


ZHANG = id_number(date(1990, 1, 1), 123)
LI = id_number(date(1988, 6, 30), 456)

# Callers by name (the X-As header of these tests); authentication itself is tested elsewhere.
CALLERS = {
    "zhang-l1": Principal(ZHANG, "citizen", acr="L1"),
    "zhang": Principal(ZHANG, "citizen", acr="L2"),
    "zhang-l3": Principal(ZHANG, "citizen", acr="L3"),
    "li": Principal(LI, "citizen", acr="L2"),
    "window-7": Principal("staff-7", "staff", roles=("window",), department="市政务服务中心"),
    "window-8": Principal("staff-8", "staff", roles=("window",)),
    "approver": Principal("staff-9", "staff", roles=("approver",)),
    "county": Principal("county-110101", "county"),
}


def _person(number: str, birth: date, **changes: object) -> dict[str, object]:
    return person(
        number,
        birth,
        **{
            "ethnicity": "汉族",
            "household_address": "北京市东城区景山前街4号",
            "marital_status": "未婚",
            **changes,
        },
    )


async def _platform(
    service_app, gateway_app, policies=None, kv: KeyValueStore | None = None, **overrides
):
    exchange = await service_app("data_exchange")
    cases = await service_app("intake")
    front = await gateway_app(
        {"data-exchange": exchange, "intake": cases},
        kv=kv,
        own_redis=True,
        policies_dir=policies or default_policies_dir(),
        **overrides,
    )
    act_as(front, CALLERS)
    return exchange, cases, front


@contextlib.asynccontextmanager
async def _up(exchange, cases, front) -> AsyncIterator[httpx.AsyncClient]:
    async with running(exchange), running(cases), running(front), gateway_client(front) as api:
        yield api


def _h(caller: str, scenario: str | None = None, **more: str) -> dict[str, str]:
    headers = {"X-As": caller, **more}
    if scenario:
        headers["X-Scenario"] = scenario
    return headers


async def _push_people(api: httpx.AsyncClient) -> None:
    pushed = await api.post(
        "/api/v1/data-exchange/population/records",
        json={
            "records": [
                _person(ZHANG, date(1990, 1, 1)),
                _person(LI, date(1988, 6, 30), name="李四", sex="女", marital_status="已婚"),
            ]
        },
        headers=_h("county", "county-record-push"),
    )
    assert pushed.status_code == 200, pushed.text
    assert [r["status"] for r in pushed.json()["results"]] == ["created", "created"]


def _card_read(applicant: str) -> dict[str, str]:
    """The hall's ID-card reader result for the applicant's card, read just now."""
    return {
        "method": "id_card",
        "id_number": applicant,
        "reference": "CR-330106-0042",
        "read_at": datetime.now(UTC).isoformat(),
    }


async def _window_case(cases, signer, staff: str, applicant: str, present: bool = True) -> str:
    """A case taken at a window by ``staff`` for ``applicant`` (once its matter is known),
    with the applicant's ID card read at the window unless not ``present``."""
    async with client(
        cases, signer, audience="intake", subject=staff, principal_type="staff"
    ) as api:

        async def submitted() -> bool:
            body = {
                "matter_code": "11000000000001",
                "channel": "window",
                "applicant_id_number": applicant,
            }
            if present:
                body["presence"] = _card_read(applicant)
            response = await api.post("/api/v1/intake/applications", json=body)
            return response.status_code == 201

        # intake learns matters from events; without one the submission is refused.
        await _publish_matter(cases)
        await eventually(submitted, timeout=30)
        listed = await _cases_of(cases, signer, applicant)
    return listed[0]


async def _publish_matter(cases) -> None:
    from yiwang_platform.bus.base import OutgoingMessage
    from yiwang_platform.events import CloudEvent

    data = {
        "code": "11000000000001",
        "version": 1,
        "name": "出生医学证明签发",
        "kind": "行政确认",
        "department": "市卫生健康委员会",
        "promised_days": 5,
        "published_at": "2026-11-02T08:00:00Z",
    }
    event = CloudEvent(
        type="gov.matters.matter.published.v1", source="/test", data=data, subject=data["code"]
    )
    message = OutgoingMessage(
        "matters.matter.v1", b"11000000000001", event.value(), event.headers()
    )
    await cases.state.runtime.bus.publish([message])


async def _cases_of(cases, signer, applicant: str) -> list[str]:
    async with client(
        cases, signer, audience="intake", subject=applicant, principal_type="citizen"
    ) as me:
        return [c["case_id"] for c in (await me.get("/api/v1/intake/applications")).json()["items"]]


async def test_every_refusal_reason_over_http(service_app, gateway_app, signer):
    exchange, cases, front = await _platform(service_app, gateway_app)
    async with _up(exchange, cases, front) as api:
        await _push_people(api)

        async def refused(headers, path=SELF, method="GET") -> dict:
            response = await api.request(method, path, headers=headers)
            assert response.status_code == 403, response.text
            assert response.headers["content-type"].startswith("application/problem+json")
            return response.json()

        assert (await refused(_h("zhang")))["code"] == "scenario_required"
        assert (await refused(_h("zhang", "nope")))["code"] == "scenario_unknown"
        assert (await refused(_h("zhang", "county-record-push")))["code"] == (
            "scenario_route_mismatch"
        )
        assert (await refused(_h("window-7", "citizen-self-lookup")))["code"] == (
            "scenario_principal_forbidden"
        )
        assert (await refused(_h("approver", "window-case-lookup"), BOUND))["code"] == (
            "scenario_principal_forbidden"
        )
        low = await refused(_h("zhang-l1", "citizen-self-lookup"))
        assert (low["code"], low["required_assurance"]) == ("assurance_too_low", "L2")
        low = await refused(_h("zhang", "birth-registration"))
        assert (low["code"], low["required_assurance"]) == ("assurance_too_low", "L3")
        # County pushes need their scenario too.
        push = await refused(_h("county"), "/api/v1/data-exchange/population/records", "POST")
        assert push["code"] == "scenario_required"
        # Staff reads need a case, and the case must be theirs.
        assert (await refused(_h("window-7", "window-case-lookup"), BOUND))["code"] == (
            "case_required"
        )
        for case_id in ("no-such-case", "../../applications", str(uuid.uuid4())):
            body = await refused(
                _h("window-7", "window-case-lookup", **{"X-Case-Id": case_id}), BOUND
            )
            assert body["code"] == "case_not_assigned"


async def test_a_scenario_not_yet_in_force_is_refused(service_app, gateway_app, signer, tmp_path):
    policies = tmp_path / "policies"
    shutil.copytree(default_policies_dir(), policies)
    path = policies / "citizen-self-lookup.yaml"
    path.write_text(path.read_text().replace("from: 2026-01-01", "from: 2999-01-01"))
    exchange, cases, front = await _platform(service_app, gateway_app, policies)
    async with _up(exchange, cases, front) as api:
        response = await api.get(SELF, headers=_h("zhang", "citizen-self-lookup"))
        assert (response.status_code, response.json()["code"]) == (403, "scenario_not_valid")


async def test_grants_bind_citizens_to_their_own_record(service_app, gateway_app, signer):
    exchange, cases, front = await _platform(service_app, gateway_app)
    async with _up(exchange, cases, front) as api:
        await _push_people(api)
        own = await api.get(SELF, headers=_h("zhang", "citizen-self-lookup"))
        assert own.status_code == 200, own.text
        assert list(own.json()) == ALL and own.json()["name"] == "张三"
        # Birth registration grants a subset: exactly those keys come back.
        subset = await api.get(SELF, headers=_h("zhang-l3", "birth-registration"))
        assert set(subset.json()) == {"name", "ethnicity", "household_address", "marital_status"}

        # BOLA: ids in the query or path never select another person's record.
        guessed = await api.get(
            SELF,
            params={"id_number": LI, "subject": LI},
            headers=_h("zhang", "citizen-self-lookup"),
        )
        assert guessed.json()["name"] == "张三" and LI not in guessed.text
        by_path = await api.get(
            f"/api/v1/data-exchange/population/people/{LI}",
            headers=_h("zhang", "citizen-self-lookup"),
        )
        assert by_path.status_code in (403, 404, 405) and "李四" not in by_path.text
        # A citizen cannot use the staff route, with or without a case id.
        staff_route = await api.get(
            BOUND, headers=_h("zhang", "window-case-lookup", **{"X-Case-Id": "x"})
        )
        assert staff_route.json()["code"] == "scenario_principal_forbidden"
        # The masked listing is for staff and county systems only.
        listing = await api.get("/api/v1/data-exchange/population/records", headers=_h("zhang"))
        assert listing.status_code == 403


async def test_staff_read_only_applicants_of_cases_assigned_to_them(
    service_app, gateway_app, signer
):
    exchange, cases, front = await _platform(service_app, gateway_app)
    async with _up(exchange, cases, front) as api:
        await _push_people(api)
        case_of_li = await _window_case(cases, signer, "staff-7", LI)

        mine = _h("window-7", "window-case-lookup", **{"X-Case-Id": case_of_li})
        bound = await api.get(BOUND, headers=mine)
        assert bound.status_code == 200, bound.text
        # The grant is [name, sex]: exactly those keys, nothing more.
        assert bound.json() == {"name": "李四", "sex": "女"}
        # Other ids in the request are ignored; the case decides the subject.
        steered = await api.get(BOUND, params={"id_number": ZHANG}, headers=mine)
        assert steered.json() == {"name": "李四", "sex": "女"}
        verified = await api.post(VERIFY, json={"claims": {"name": "李四"}}, headers=mine)
        assert verified.json() == {"name": True}
        not_granted = await api.post(
            VERIFY, json={"claims": {"birth_date": "1988-06-30"}}, headers=mine
        )
        assert (not_granted.status_code, not_granted.json()["code"]) == (403, "field_not_granted")

        # Another window clerk, same case: refused.
        theirs = _h("window-8", "window-case-lookup", **{"X-Case-Id": case_of_li})
        refused = await api.get(BOUND, headers=theirs)
        assert (refused.status_code, refused.json()["code"]) == (403, "case_not_assigned")
        assert "李四" not in refused.text


async def test_staff_read_an_applicant_only_once_present_and_the_read_is_in_their_log(
    service_app, gateway_app, signer
):
    exchange, cases, front = await _platform(service_app, gateway_app)
    async with _up(exchange, cases, front) as api:
        await _push_people(api)
        case_of_li = await _window_case(cases, signer, "staff-7", LI, present=False)
        mine = _h("window-7", "window-case-lookup", **{"X-Case-Id": case_of_li})

        # A valid ID number typed at the window is not the person: no read, no 核验.
        for method, path, body in (
            ("GET", BOUND, None),
            ("POST", VERIFY, {"claims": {"name": "李四"}}),
        ):
            refused = await api.request(method, path, json=body, headers=mine)
            assert (refused.status_code, refused.json()["code"]) == (
                403,
                "applicant_presence_required",
            ), refused.text
            assert "李四" not in refused.text
        presence_url = f"/api/v1/intake/cases/{case_of_li}/presence"
        # The card read must be the applicant's, and fresh.
        wrong = await api.post(presence_url, json=_card_read(ZHANG), headers=_h("window-7"))
        assert (wrong.status_code, wrong.json()["code"]) == (422, "presence_mismatch")
        old = {**_card_read(LI), "read_at": (datetime.now(UTC) - timedelta(days=1)).isoformat()}
        stale = await api.post(presence_url, json=old, headers=_h("window-7"))
        assert (stale.status_code, stale.json()["code"]) == (422, "presence_stale")
        theirs = await api.post(presence_url, json=_card_read(LI), headers=_h("window-8"))
        assert (theirs.status_code, theirs.json()["code"]) == (404, "case_not_found")
        still = await api.get(BOUND, headers=mine)
        assert still.json()["code"] == "applicant_presence_required"

        recorded = await api.post(presence_url, json=_card_read(LI), headers=_h("window-7"))
        assert recorded.status_code == 200, recorded.text
        assert recorded.json()["presence"]["method"] == "id_card"
        assert recorded.json()["presence"]["recorded_by"] == "staff-7"
        bound = await api.get(BOUND, headers=mine)
        assert (bound.status_code, bound.json()) == (200, {"name": "李四", "sex": "女"})

        # The read is in 李四's own access log, with the clerk, their department and the case.
        log = await api.get("/api/v1/me/access-log", headers=_h("li"))
        assert log.status_code == 200, log.text
        staff_entries = [e for e in log.json()["items"] if e["accessor_type"] == "staff"]
        assert [
            (
                e["accessor"],
                e["accessor_department"],
                e["case_id"],
                e["presence"],
                e["fields"],
                e["outcome"],
            )
            for e in staff_entries
        ] == [
            (
                "staff-7",
                "市政务服务中心",
                case_of_li,
                "id_card",
                ["population.name", "population.sex"],
                "read",
            )
        ]


async def test_the_applicant_confirms_a_window_case_in_their_app(service_app, gateway_app, signer):
    exchange, cases, front = await _platform(service_app, gateway_app)
    async with _up(exchange, cases, front) as api:
        await _push_people(api)
        case_of_zhang = await _window_case(cases, signer, "staff-7", ZHANG, present=False)
        mine = _h("window-7", "window-case-lookup", **{"X-Case-Id": case_of_zhang})
        confirm = f"/api/v1/intake/applications/{case_of_zhang}/presence-confirmation"

        # Only the applicant can confirm: another citizen cannot stand in for them.
        other = await api.post(confirm, headers=_h("li"))
        assert (other.status_code, other.json()["code"]) == (403, "not_the_applicant")
        assert (await api.get(BOUND, headers=mine)).json()["code"] == (
            "applicant_presence_required"
        )
        pending = await api.get(f"/api/v1/intake/applications/{case_of_zhang}", headers=_h("zhang"))
        assert pending.json()["presence"] is None

        confirmed = await api.post(confirm, headers=_h("zhang"))
        assert confirmed.status_code == 200, confirmed.text
        assert confirmed.json()["presence"]["method"] == "app_confirmation"
        bound = await api.get(BOUND, headers=mine)
        assert (bound.status_code, bound.json()) == (200, {"name": "张三", "sex": "男"})


async def test_rate_limit_answers_429_with_retry_after(
    service_app, gateway_app, tmp_path, kv_store
):
    policies = tmp_path / "policies"
    shutil.copytree(default_policies_dir(), policies)
    path = policies / "citizen-self-lookup.yaml"
    path.write_text(path.read_text().replace("per_principal: 30/min", "per_principal: 3/min"))
    exchange, cases, front = await _platform(
        service_app, gateway_app, policies, kv=kv_store, rate_limit_per_minute=4
    )
    async with _up(exchange, cases, front) as api:
        await _push_people(api)
        # 20 s into a one-minute window, so the test never straddles two windows.
        parts(front).limiter.clock = lambda: 60 * 29_000_000 + 20.0
        headers = _h("zhang", "citizen-self-lookup")
        statuses = [(await api.get(SELF, headers=headers)).status_code for _ in range(3)]
        assert statuses == [200, 200, 200]
        limited = await api.get(SELF, headers=headers)
        assert limited.status_code == 429
        assert limited.json()["code"] == "rate_limited"
        assert limited.headers["Retry-After"] == "40"
        # Another citizen is not affected.
        assert (await api.get(SELF, headers=_h("li", "citizen-self-lookup"))).status_code == 200
        # Routes without a scenario fall under the default per-principal limit (4/min).
        codes = [
            (await api.get("/api/v1/intake/applications", headers=_h("li"))).status_code
            for _ in range(5)
        ]
        assert codes == [200, 200, 200, 200, 429]


async def test_an_edited_policy_applies_without_dropping_requests(
    service_app, gateway_app, tmp_path
):
    policies = tmp_path / "policies"
    shutil.copytree(default_policies_dir(), policies)
    exchange, cases, front = await _platform(
        service_app, gateway_app, policies, policies_poll_seconds=0.05, rate_limit_per_minute=0
    )
    path = policies / "citizen-self-lookup.yaml"
    path.write_text(path.read_text().replace("per_principal: 30/min", "per_principal: 100000/min"))
    async with _up(exchange, cases, front) as api:
        await _push_people(api)
        headers = _h("zhang", "citizen-self-lookup")
        outcomes: list[int] = []
        stop = asyncio.Event()

        async def traffic() -> None:
            while not stop.is_set():
                response = await api.get(SELF, headers=headers)
                outcomes.append(response.status_code)
                # Each answer is one policy or the other, never half of each.
                if response.status_code == 200:
                    assert set(response.json()) in (set(ALL), {"name", "sex"})
                # A refusal completes without I/O: let the poller and the test run.
                await asyncio.sleep(0.001)

        runner = asyncio.create_task(traffic())
        try:
            path.write_text(
                path.read_text().replace(
                    "population: [name, sex, ethnicity, birth_date, household_address, marital_status]",
                    "population: [name, sex]",
                )
            )

            async def narrowed() -> bool:
                return set((await api.get(SELF, headers=headers)).json()) == {"name", "sex"}

            await eventually(narrowed, timeout=10)

            # A broken edit keeps the last good policy; requests still succeed.
            path.write_text(path.read_text().replace("assurance: L2", "assurance: L7"))
            await asyncio.sleep(0.5)
            assert "citizen-self-lookup.yaml" in (parts(front).scenarios.last_error or "")
            still = await api.get(SELF, headers=headers)
            assert (still.status_code, set(still.json())) == (200, {"name", "sex"})

            path.write_text(path.read_text().replace("assurance: L7", "assurance: L3"))

            async def raised() -> bool:
                response = await api.get(SELF, headers=headers)
                return response.status_code == 403 and response.json()["code"] == (
                    "assurance_too_low"
                )

            await eventually(raised, timeout=10)
        finally:
            stop.set()
            await runner
        assert outcomes and set(outcomes) <= {200, 403}
