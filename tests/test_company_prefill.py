"""企业开办 pre-fill through the standalone gateway: the founder's form is filled from
the enterprise he has registered as legal representative, and a library the scenario
does not grant is named in the answer instead of leaving an empty form unexplained."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gateway.settings import default_policies_dir
from tools import journeys
from yiwang_standalone import seed_libraries as seed

LEGAL_PERSON_FIELDS = [
    "company_name",
    "legal_representative",
    "registered_address",
    "business_scope",
]


def _enterprise() -> dict[str, object]:
    return next(e for e in seed.generate().legal_persons if e["uscc"] == seed.ENTERPRISE_USCC)


async def test_company_opening_prefill_fills_the_legal_person_fields(tmp_path: Path):
    async with journeys.standalone(tmp_path) as platform:
        founder = journeys.seed_person(seed.FOUNDER_ID)
        auth = await platform.citizen("13800000021", founder["id_number"], founder["name"])
        filled = await journeys.prefill(platform, auth, "COMPANY-OPENING", "company-opening")
        log = await platform.api.get("/api/v1/me/access-log", headers=auth)
    firm = _enterprise()
    assert filled == {
        "company_name": firm["name"],
        "legal_representative": founder["name"],
        "registered_address": firm["registered_address"],
        "business_scope": firm["business_scope"],
    }
    # Reading his name as the representative shows in the founder's own access log.
    reads = [e for e in log.json()["items"] if e["scenario"] == "company-opening"]
    assert [e["fields"] for e in reads] == [["legal_person.legal_representative"]]


async def test_a_source_the_scenario_does_not_grant_is_listed_as_unavailable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    policies = tmp_path / "policies"
    shutil.copytree(default_policies_dir(), policies)
    path = policies / "company-opening.yaml"
    kept = [line for line in path.read_text().splitlines() if "legal_person:" not in line]
    path.write_text("\n".join(kept) + "\n")
    monkeypatch.setenv("YIWANG_POLICIES_DIR", str(policies))
    async with journeys.standalone(tmp_path / "var") as platform:
        founder = journeys.seed_person(seed.FOUNDER_ID)
        auth = await platform.citizen("13800000022", founder["id_number"], founder["name"])
        answer = await platform.api.post(
            "/api/v1/intake/prefills",
            json={"bundle_code": "COMPANY-OPENING"},
            headers={**auth, "X-Scenario": "company-opening"},
        )
        with pytest.raises(journeys.StepFailed, match="legal_person"):
            await journeys.prefill(platform, auth, "COMPANY-OPENING", "company-opening")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["prefilled"] == []
    assert all(body["form"][name] is None for name in LEGAL_PERSON_FIELDS)
    assert body["unavailable"] == [
        {
            "source": "legal_person",
            "reason": "forbidden",
            "code": "no_grant",
            "fields": LEGAL_PERSON_FIELDS,
        }
    ]
