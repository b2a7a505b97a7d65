"""The household read for the 出生一件事 pre-fill, on both backends: the caller, the
spouse (only when both records name each other) and the household members, granted
fields only, each person's read in their own access log."""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import select
from stdnum.cn import ric

from data_exchange.models import access_log
from yiwang_platform.testing import client, running

from .factories import county_client, make_app

HOUSEHOLD = "/api/v1/data-exchange/population/household/self"
RECORDS = "/api/v1/data-exchange/population/records"
# What gateway/policies/birth-registration.yaml grants.
BIRTH_GRANT = {"population": ["name", "ethnicity", "household_address", "marital_status"]}


def id_number(birth: date, sequence: int, area: str = "330106") -> str:
    body = f"{area}{birth:%Y%m%d}{sequence:03d}"
    return body + ric.calc_check_digit(body + "0")


FATHER = id_number(date(1991, 3, 14), 31)
MOTHER = id_number(date(1993, 7, 22), 48)
GRANDMOTHER = id_number(date(1965, 9, 2), 22, area="330122")
NEIGHBOUR = id_number(date(1990, 1, 1), 11)
CLAIMANT = id_number(date(1992, 2, 2), 24)  # names the father as spouse; he does not
HUSBAND = id_number(date(1994, 6, 1), 55)  # married, the wife in another household
WIFE = id_number(date(1995, 8, 8), 66, area="330102")
HOME = "浙江省杭州市西湖区文三路90号3幢2单元501室"


def person(number, birth, name, sex, household, address=HOME, spouse=None, marital="已婚"):
    data = {
        "source": "330106-hukou",
        "source_version": 1,
        "id_number": number,
        "name": name,
        "sex": sex,
        "ethnicity": "汉族",
        "birth_date": birth.isoformat(),
        "household_address": address,
        "marital_status": marital,
        "household_number": household,
    }
    if spouse:
        data["spouse_id_number"] = spouse
    return data


PEOPLE = [
    person(FATHER, date(1991, 3, 14), "陈志远", "男", "330106800001", spouse=MOTHER),
    person(MOTHER, date(1993, 7, 22), "林晓雯", "女", "330106800001", spouse=FATHER),
    person(GRANDMOTHER, date(1965, 9, 2), "刘秀英", "女", "330106800001", marital="丧偶"),
    person(NEIGHBOUR, date(1990, 1, 1), "赵邻", "男", "330106800002", "杭州市西湖区隔壁"),
    person(CLAIMANT, date(1992, 2, 2), "冒名", "女", "330106800003", "杭州某处", spouse=FATHER),
    person(HUSBAND, date(1994, 6, 1), "周丈夫", "男", "330106800004", "杭州甲处", spouse=WIFE),
    person(WIFE, date(1995, 8, 8), "吴妻子", "女", "330102800005", "杭州乙处", spouse=HUSBAND),
]


async def _load(app, signer, records) -> dict:
    async with county_client(app, signer, "c-1") as county:
        return (await county.post(RECORDS, json={"records": records})).json()


def _citizen(app, signer, subject, grant=BIRTH_GRANT, bind="self", ptype="citizen"):
    claims = {"scn": "birth-registration", "grant": grant, "bind": bind, "acr": "L3"}
    return client(
        app, signer, audience="data-exchange", principal_type=ptype, subject=subject, **claims
    )


def _view(name, address=HOME, marital="已婚"):
    return {
        "name": name,
        "ethnicity": "汉族",
        "household_address": address,
        "marital_status": marital,
    }


async def test_household_read_gives_spouse_and_members_granted_fields(backend, signer, verifier):
    app = await make_app(backend, verifier)
    async with running(app):
        assert (await _load(app, signer, PEOPLE))["summary"]["accepted"] == len(PEOPLE)
        async with _citizen(app, signer, FATHER) as father:
            answer = await father.get(HOUSEHOLD, params={"id_number": NEIGHBOUR})
            assert answer.status_code == 200, answer.text
            assert answer.json() == {
                "applicant": _view("陈志远"),
                "spouse": _view("林晓雯"),
                "same_household": True,
                "household_members": [_view("刘秀英", marital="丧偶")],
            }
        async with _citizen(app, signer, MOTHER, {"population": ["name", "sex"]}) as mother:
            assert (await mother.get(HOUSEHOLD)).json() == {
                "applicant": {"name": "林晓雯", "sex": "女"},
                "spouse": {"name": "陈志远", "sex": "男"},
                "same_household": True,
                "household_members": [{"name": "刘秀英", "sex": "女"}],
            }
        # A one-sided spouse link discloses no one.
        async with _citizen(app, signer, CLAIMANT) as claimant:
            assert (await claimant.get(HOUSEHOLD)).json() == {
                "applicant": _view("冒名", "杭州某处"),
                "spouse": None,
                "same_household": False,
                "household_members": [],
            }
        async with _citizen(app, signer, HUSBAND, {"population": ["name"]}) as husband:
            assert (await husband.get(HOUSEHOLD)).json() == {
                "applicant": {"name": "周丈夫"},
                "spouse": {"name": "吴妻子"},
                "same_household": False,
                "household_members": [],
            }

        # Each person read is logged under their own index, with the granted fields.
        cipher = app.state.runtime.cipher
        async with app.state.runtime.sessions() as s:
            logged = [
                json.loads(e)
                for e in (await s.scalars(select(access_log.c.entry).order_by("seq"))).all()
                if json.loads(e)["outcome"] == "read"
            ]
        granted = sorted(f"population.{f}" for f in BIRTH_GRANT["population"])
        assert [(e["subject_index"], e["fields"]) for e in logged[:3]] == [
            (cipher.blind_index(FATHER), granted),
            (cipher.blind_index(MOTHER), granted),
            (cipher.blind_index(GRANDMOTHER), granted),
        ]
        assert cipher.blind_index(NEIGHBOUR) not in {e["subject_index"] for e in logged}
        # Father's read: 3 people; mother's: 3; the claimant's: 1; the husband's: 2.
        assert len(logged) == 9


async def test_household_read_refuses_what_it_must(backend, signer, verifier):
    app = await make_app(backend, verifier)
    async with running(app):
        await _load(app, signer, PEOPLE)
        cases = [
            (_citizen(app, signer, FATHER, {"population": ["id_number"]}), 403, "no_grant"),
            (_citizen(app, signer, FATHER, {"legal_person": ["name"]}), 403, "no_grant"),
            (_citizen(app, signer, FATHER, bind="case", ptype="staff"), 403, "binding_mismatch"),
            (_citizen(app, signer, FATHER, bind="org"), 403, "binding_mismatch"),
            (_citizen(app, signer, id_number(date(2000, 1, 1), 99)), 404, "not_found"),
        ]
        for made, status, code in cases:
            async with made as caller:
                refused = await caller.get(HOUSEHOLD)
                assert (refused.status_code, refused.json()["code"]) == (status, code)
                assert refused.headers["content-type"] == "application/problem+json"


async def test_spouse_links_are_checked(backend, signer, verifier):
    app = await make_app(backend, verifier)
    async with running(app):
        bad_spouse = MOTHER[:-1] + ("1" if MOTHER[-1] != "1" else "2")
        answer = await _load(
            app,
            signer,
            [
                person(
                    FATHER, date(1991, 3, 14), "陈志远", "男", "330106800001", spouse=bad_spouse
                ),
                person(FATHER, date(1991, 3, 14), "陈志远", "男", "330106800001", spouse=FATHER),
                person(FATHER, date(1991, 3, 14), "陈", "男", "H1", spouse=MOTHER, marital="未婚"),
                person(FATHER, date(1991, 3, 14), "陈志远", "男", "户号一"),
            ],
        )
        assert [r.get("reason") for r in answer["results"]] == [
            "spouse_id_number: invalid checksum",
            "spouse_id_number: is the person's own",
            "household_number: String should match pattern '^[0-9A-Za-z]{6,20}$'",
            "household_number: String should match pattern '^[0-9A-Za-z]{6,20}$'",
        ]
        answer = await _load(
            app,
            signer,
            [
                person(
                    FATHER, date(1991, 3, 14), "陈", "男", "H10001", spouse=MOTHER, marital="未婚"
                )
            ],
        )
        assert answer["results"][0]["reason"] == "spouse_id_number: only with marital_status 已婚"
        assert answer["summary"] == {"accepted": 0, "unchanged": 0, "stale": 0, "rejected": 1}
