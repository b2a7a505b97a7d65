"""Scenario policies: the shipped files load, bad files are named at start, every
refusal has its reason code, hot reload swaps atomically and keeps the old policy
on a broken edit, and rate limits count per principal and scenario (memory and
real Redis)."""

from __future__ import annotations

import asyncio
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.identity.principal import Principal
from gateway.routing.ratelimit import RateLimiter
from gateway.routing.scenarios import (
    Decision,
    PolicyError,
    ScenarioStore,
    compile_directory,
    load_policy,
)
from gateway.settings import Settings, default_policies_dir
from yiwang_platform.errors import ProblemError

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
SELF = "/api/v1/data-exchange/population/people/self"
BOUND = "/api/v1/data-exchange/population/people/bound"

CITIZEN_L2 = Principal("110101199003074514", "citizen", acr="L2")
CITIZEN_L3 = Principal("110101199003074514", "citizen", acr="L3")
WINDOW_STAFF = Principal("staff-7", "staff", roles=("window",))
BACK_OFFICE = Principal("staff-8", "staff", roles=("approver",))


def policies() -> Path:
    return default_policies_dir()


def test_the_shipped_policies_load_and_cover_their_routes():
    registry = compile_directory(policies())
    assert set(registry.scenarios) >= {
        "citizen-self-lookup",
        "birth-registration",
        "company-opening",
        "window-case-lookup",
        "partner-case-exchange",
        "county-record-push",
        "real-name-binding",
        "enterprise-self-lookup",
    }
    assert Settings().policies_dir == policies()
    assert registry.covering("GET", SELF) == {
        "citizen-self-lookup",
        "birth-registration",
        "company-opening",
    }
    assert registry.covering("POST", "/api/v1/data-exchange/verify") == {
        "birth-registration",
        "window-case-lookup",
        "real-name-binding",
    }
    assert registry.covering("GET", "/api/v1/intake/partner-cases/c-1") == {"partner-case-exchange"}
    assert registry.covering("POST", "/api/v1/data-exchange/population/records") == {
        "county-record-push"
    }
    # The wildcard is one segment: neither deeper nor shallower paths match.
    assert registry.covering("GET", "/api/v1/intake/partner-cases/c-1/x") == set()
    assert registry.covering("GET", "/api/v1/matters/matters") == set()
    assert registry.covering("DELETE", SELF) == set()
    birth = registry.scenarios["birth-registration"]
    assert birth.grant == {
        "population": ["name", "ethnicity", "household_address", "marital_status"],
        "license": ["marriage-certificate"],
    }
    assert (birth.assurance, birth.binding, birth.rate_per_minute) == ("L3", "self", 30)


def test_each_refusal_has_its_reason_code():
    registry = compile_directory(policies())

    def reason(principal: Principal, path: str, scenario: str | None, method="GET") -> Decision:
        return registry.decide(principal, method, path=path, requested=scenario, now=NOW)

    assert reason(CITIZEN_L2, SELF, None).reason_code == "scenario_required"
    assert reason(CITIZEN_L2, SELF, "  ").reason_code == "scenario_required"
    assert reason(CITIZEN_L2, SELF, "no-such-thing").reason_code == "scenario_unknown"
    assert reason(CITIZEN_L2, SELF, "county-record-push").reason_code == "scenario_route_mismatch"
    assert reason(WINDOW_STAFF, SELF, "citizen-self-lookup").reason_code == (
        "scenario_principal_forbidden"
    )
    # Right type, missing role.
    assert reason(BACK_OFFICE, BOUND, "window-case-lookup").reason_code == (
        "scenario_principal_forbidden"
    )
    low = reason(CITIZEN_L2, SELF, "birth-registration")
    assert (low.allowed, low.reason_code) == (False, "assurance_too_low")
    assert low.extra == {"required_assurance": "L3", "current_assurance": "L2"}
    early = registry.decide(
        CITIZEN_L2,
        "GET",
        path=SELF,
        requested="citizen-self-lookup",
        now=datetime(2025, 12, 31, tzinfo=UTC),
    )
    assert early.reason_code == "scenario_not_valid"

    allowed = reason(CITIZEN_L3, SELF, "birth-registration")
    assert allowed.allowed and allowed.reason_code is None
    assert (allowed.scenario_name, allowed.binding, allowed.rate) == (
        "birth-registration",
        "self",
        30,
    )
    staff = reason(WINDOW_STAFF, BOUND, "window-case-lookup")
    assert staff.allowed and staff.grant == {"population": ["name", "sex"]}
    # Routes no scenario covers pass without a grant, whatever the header says.
    open_route = reason(CITIZEN_L2, "/api/v1/matters/matters", "birth-registration")
    assert open_route.allowed and not open_route.covered and open_route.grant == {}


def test_a_policy_past_its_end_date_is_not_valid(tmp_path):
    (tmp_path / "old.yaml").write_text(
        (policies() / "citizen-self-lookup.yaml")
        .read_text()
        .replace("scenario: citizen-self-lookup", "scenario: old")
        .replace("valid: {from: 2026-01-01}", "valid: {from: 2026-01-01, until: 2026-03-31}")
    )
    registry = compile_directory(tmp_path)
    assert (
        registry.decide(CITIZEN_L2, "GET", path=SELF, requested="old", now=NOW).reason_code
        == "scenario_not_valid"
    )
    on_last_day = datetime(2026, 3, 31, 23, 0, tzinfo=UTC)
    assert registry.decide(CITIZEN_L2, "GET", path=SELF, requested="old", now=on_last_day).allowed


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (
            ("population: [name, sex", "population: [name, salary"),
            "reads: Value error, population: unknown fields ['salary']",
        ),
        (("principals: [citizen]", "principals: [alien]"), "principals"),
        (("assurance: L2", "assurance: L9"), "assurance"),
        (("subject: self", "subject: everyone"), "subject"),
        (('- "GET /api', '- "FETCH /api'), "routes"),
        (("per_principal: 30/min", "per_principal: lots"), "rate.per_principal"),
        (("valid: {from: 2026-01-01}", "valid: {}"), "valid.from"),
        (("purpose:", "porpoise:"), "porpoise"),
        (("scenario: citizen-self-lookup", "scenario: another-name"), "must match the file name"),
        (("reads:", "reads: [oops"), "not valid YAML"),
    ],
)
def test_a_bad_file_is_an_error_naming_the_file_and_field(tmp_path, change, named):
    source = (policies() / "citizen-self-lookup.yaml").read_text()
    assert change[0] in source
    bad = tmp_path / "citizen-self-lookup.yaml"
    bad.write_text(source.replace(change[0], change[1], 1))
    with pytest.raises(PolicyError) as raised:
        compile_directory(tmp_path)
    assert str(bad) in str(raised.value)
    assert named in str(raised.value)
    with pytest.raises(PolicyError):
        load_policy(bad)


def test_duplicate_scenarios_and_a_missing_directory_are_refused(tmp_path):
    source = (policies() / "citizen-self-lookup.yaml").read_text()
    (tmp_path / "citizen-self-lookup.yaml").write_text(source)
    (tmp_path / "citizen-self-lookup.yml").write_text(source)
    with pytest.raises(PolicyError, match="declared twice"):
        compile_directory(tmp_path)
    with pytest.raises(PolicyError, match="not found"):
        compile_directory(tmp_path / "nowhere")


async def test_hot_reload_swaps_in_edits_and_keeps_the_old_policy_on_a_broken_one(tmp_path):
    directory = tmp_path / "policies"
    shutil.copytree(policies(), directory)
    store = ScenarioStore(directory, poll_seconds=0.05)
    store.start()
    try:
        before = store.current
        assert store.current.decide(
            CITIZEN_L2, "GET", path=SELF, requested="citizen-self-lookup", now=NOW
        ).allowed
        path = directory / "citizen-self-lookup.yaml"
        path.write_text(path.read_text().replace("assurance: L2", "assurance: L3"))

        async def swapped() -> bool:
            while store.current is before:
                await asyncio.sleep(0.02)
            return True

        await asyncio.wait_for(swapped(), 5)
        refused = store.current.decide(
            CITIZEN_L2, "GET", path=SELF, requested="citizen-self-lookup", now=NOW
        )
        assert refused.reason_code == "assurance_too_low"

        # A broken edit: logged, and the last good registry stays in force.
        good = store.current
        path.write_text(path.read_text().replace("subject: self", "subject: [broken"))
        for _ in range(20):
            await asyncio.sleep(0.05)
            assert store.current.decide(
                CITIZEN_L3, "GET", path=SELF, requested="citizen-self-lookup", now=NOW
            ).allowed
        assert store.current is good
        assert store.last_error is not None and "citizen-self-lookup.yaml" in store.last_error

        # A new file is picked up once the directory compiles again.
        path.write_text(path.read_text().replace("subject: [broken", "subject: self"))
        new = (directory / "citizen-self-lookup.yaml").read_text()
        (directory / "pilot.yaml").write_text(
            new.replace("scenario: citizen-self-lookup", "scenario: pilot")
        )

        async def pilot() -> bool:
            while "pilot" not in store.current.scenarios:
                await asyncio.sleep(0.02)
            return True

        await asyncio.wait_for(pilot(), 5)
        assert store.last_error is None
    finally:
        await store.stop()


def test_a_bad_policy_stops_the_start(tmp_path):
    (tmp_path / "x.yaml").write_text("scenario: x\n")
    with pytest.raises(PolicyError, match=r"x\.yaml: purpose: Field required"):
        ScenarioStore(tmp_path)


async def test_rate_limits_count_per_principal_and_scenario(kv_store):
    # A fixed clock 15 s into a window, so the test never straddles two windows.
    limiter = RateLimiter(kv_store, default_per_minute=5, clock=lambda: 60 * 29_000_000 + 15.0)
    scenario = Decision(allowed=True, scenario_name="citizen-self-lookup", rate=3)
    other = Principal("110101199001011237", "citizen", acr="L2")
    for _ in range(3):
        await limiter.check(CITIZEN_L2, scenario)
    with pytest.raises(ProblemError) as raised:
        await limiter.check(CITIZEN_L2, scenario)
    refused = raised.value
    assert (refused.status, refused.code) == (429, "rate_limited")
    assert refused.headers == {"Retry-After": "45"}
    # Another principal, and the same principal on routes without a scenario, count apart.
    await limiter.check(other, scenario)
    for _ in range(5):
        await limiter.check(CITIZEN_L2, Decision(allowed=True))
    with pytest.raises(ProblemError):
        await limiter.check(CITIZEN_L2, Decision(allowed=True))
    # Zero disables the default limit.
    unlimited = RateLimiter(kv_store, default_per_minute=0, clock=limiter.clock)
    for _ in range(10):
        await unlimited.check(other, Decision(allowed=True))
