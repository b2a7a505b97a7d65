"""The synthetic seed: valid checksums, the same output every time, the documented
demo identities, and loading through data-exchange's county push API, which a second
push leaves as is."""

from __future__ import annotations

import hashlib
import re
from collections import Counter

import pytest
from sqlalchemy import func, select
from stdnum.cn import ric, uscc

from data_exchange.main import create_app
from data_exchange.models import LegalPersonRecord, PopulationRecord, outbox
from data_exchange.settings import Settings
from yiwang_platform.testing import client, running
from yiwang_standalone import seed_libraries as seed


def test_every_identifier_is_valid_and_unique():
    data = seed.generate()
    numbers = [p["id_number"] for p in data.population]
    codes = [e["uscc"] for e in data.legal_persons]
    assert 250 <= len(numbers) <= 400 and len(codes) >= 50
    assert all(ric.is_valid(n) for n in numbers)
    assert all(uscc.is_valid(c) for c in codes)
    assert len(set(numbers)) == len(numbers) and len(set(codes)) == len(codes)
    for p in data.population:
        assert ric.get_birth_date(p["id_number"]).isoformat() == p["birth_date"]
        # GB 11643: the 17th digit is odd for men, even for women.
        assert int(p["id_number"][16]) % 2 == (1 if p["sex"] == "男" else 0)
        assert re.fullmatch(r"[\u4e00-\u9fff]{2,4}", p["name"])
    # The organisation code inside each credit code has its GB 11714 check character.
    assert all(seed.organisation_code(c[8:16]) == c[8:17] for c in codes)
    # Every representative is a person of the population seed.
    assert {e["legal_representative_id_number"] for e in data.legal_persons} <= set(numbers)
    # Spouse links go both ways.
    by_number = {p["id_number"]: p for p in data.population}
    for p in data.population:
        if "spouse_id_number" in p:
            assert by_number[p["spouse_id_number"]]["spouse_id_number"] == p["id_number"]
            assert p["marital_status"] == "已婚"


def test_the_seed_is_the_same_every_time(tmp_path):
    first = seed.write(seed.generate(), tmp_path / "a")
    second = seed.write(seed.generate(), tmp_path / "b")
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]
    assert seed.main(["--out", str(tmp_path / "c")]) == 0
    digest = hashlib.sha256((tmp_path / "c" / "population.json").read_bytes()).hexdigest()
    assert digest == hashlib.sha256(first[0].read_bytes()).hexdigest()


def test_the_demo_identities_are_the_documented_ones():
    data = seed.generate()
    doc = seed.__doc__ or ""
    for value in (
        seed.FATHER_ID,
        seed.MOTHER_ID,
        seed.GRANDMOTHER_ID,
        seed.FOUNDER_ID,
        seed.ENTERPRISE_USCC,
        seed.DEMO_HOUSEHOLD,
    ):
        assert value in doc
    people = {p["id_number"]: p for p in data.population}
    father, mother = people[seed.FATHER_ID], people[seed.MOTHER_ID]
    assert (father["spouse_id_number"], mother["spouse_id_number"]) == (
        seed.MOTHER_ID,
        seed.FATHER_ID,
    )
    assert father["household_number"] == mother["household_number"] == seed.DEMO_HOUSEHOLD
    assert father["household_address"].startswith("浙江省杭州市")
    members = Counter(p["household_number"] for p in data.population)
    assert members[seed.DEMO_HOUSEHOLD] == 3
    enterprise = next(e for e in data.legal_persons if e["uscc"] == seed.ENTERPRISE_USCC)
    assert enterprise["legal_representative_id_number"] == seed.FOUNDER_ID
    assert enterprise["legal_representative_name"] == people[seed.FOUNDER_ID]["name"] == "王建国"
    assert seed.credit_code("330106", "74812306") == seed.ENTERPRISE_USCC


async def _counts(app) -> tuple[int, int, int]:
    async with app.state.runtime.sessions() as s:
        people = await s.scalar(select(func.count()).select_from(PopulationRecord))
        firms = await s.scalar(select(func.count()).select_from(LegalPersonRecord))
        events = await s.scalar(
            select(func.count())
            .select_from(outbox)
            .where(outbox.c.topic == "data-exchange.record.v1")
        )
    return people, firms, events


def unchanged(data: seed.Seed) -> dict[str, dict[str, int]]:
    return {
        "population": {
            "accepted": 0,
            "unchanged": len(data.population),
            "stale": 0,
            "rejected": 0,
        },
        "legal_person": {
            "accepted": 0,
            "unchanged": len(data.legal_persons),
            "stale": 0,
            "rejected": 0,
        },
    }


def county(app, signer):
    """The county system of the development keys, as the gateway vouches for it."""
    return client(
        app, signer, audience="data-exchange", principal_type="county", subject="dev-county-330100"
    )


async def test_pushing_twice_changes_nothing(backend, signer, verifier):
    data = seed.generate()
    settings = await backend.settings(Settings)
    app = create_app(settings, bus=backend.bus(), verifier=verifier, configure_logs=False)
    async with running(app):
        async with county(app, signer) as api:
            first = await seed.push(api, headers={})
        assert first["population"]["accepted"] == len(data.population)
        assert first["legal_person"]["accepted"] == len(data.legal_persons)
        loaded = await _counts(app)
        assert loaded == (
            len(data.population),
            len(data.legal_persons),
            len(data.population) + len(data.legal_persons),
        )
        async with county(app, signer) as api:
            again = await seed.push(api, headers={})
        assert again == unchanged(data)
        assert await _counts(app) == loaded

        # The demo parents' household reads as the birth journey needs it.
        claims = {
            "scn": "birth-registration",
            "grant": {"population": ["name", "household_address", "marital_status"]},
            "bind": "self",
        }
        async with client(
            app,
            signer,
            audience="data-exchange",
            principal_type="citizen",
            subject=seed.FATHER_ID,
            **claims,
        ) as father:
            household = (await father.get("/api/v1/data-exchange/population/household/self")).json()
        assert household["applicant"]["name"] == "陈志远"
        assert household["spouse"] == {
            "name": "林晓雯",
            "household_address": seed.DEMO_ADDRESS,
            "marital_status": "已婚",
        }
        assert household["same_household"] is True
        assert [m["name"] for m in household["household_members"]] == ["刘秀英"]

        claims = {
            "scn": "company-opening",
            "grant": {"legal_person": ["name", "legal_representative", "status"]},
            "bind": "org",
        }
        async with client(
            app,
            signer,
            audience="data-exchange",
            principal_type="enterprise",
            subject=seed.ENTERPRISE_USCC,
            **claims,
        ) as founder:
            firm = (await founder.get("/api/v1/data-exchange/legal-persons/self")).json()
        assert firm == {
            "name": "杭州云栖数智科技有限公司",
            "legal_representative": "王建国",
            "status": "存续",
        }

    # After a restart, a push finds everything there.
    app = create_app(settings, bus=backend.bus(), verifier=verifier, configure_logs=False)
    async with running(app):
        async with county(app, signer) as api:
            assert await seed.push(api, headers={}) == unchanged(data)
        assert await _counts(app) == loaded


async def test_a_refused_push_stops_the_seeding(backend, signer, verifier):
    settings = await backend.settings(Settings)
    app = create_app(settings, bus=backend.bus(), verifier=verifier, configure_logs=False)
    async with running(app):
        async with client(app, signer, audience="data-exchange", principal_type="citizen") as api:
            with pytest.raises(RuntimeError, match="403"):
                await seed.push(api, headers={})
