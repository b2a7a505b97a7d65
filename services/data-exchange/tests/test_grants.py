"""Field grants enforced again in data-exchange (defence in depth), on both backends:
scenario-scoped reads answer exactly the granted fields about the bound subject, and
核验 answers true/false for granted fields only."""

from __future__ import annotations

from datetime import date

from yiwang_platform.pii import PiiCipher
from yiwang_platform.testing import client, running

from .factories import county_client, id_number, make_app, window_staff
from .factories import population_record as record

SELF = "/api/v1/data-exchange/population/people/self"
BOUND = "/api/v1/data-exchange/population/people/bound"
VERIFY = "/api/v1/data-exchange/verify"


ZHANG = id_number(date(1990, 1, 1), 123)
LI = id_number(date(1988, 6, 30), 456)


ALL = ["name", "sex", "ethnicity", "birth_date", "household_address", "marital_status"]


async def _load(app, signer) -> None:
    async with county_client(app, signer, "c-1") as county:
        done = await county.post(
            "/api/v1/data-exchange/population/records",
            json={
                "records": [
                    record(ZHANG, date(1990, 1, 1)),
                    record(LI, date(1988, 6, 30), name="李四", sex="女", marital_status="已婚"),
                ]
            },
        )
        assert [r["status"] for r in done.json()["results"]] == ["created", "created"]


def _citizen(app, signer, subject: str, grant, scenario="citizen-self-lookup", bind="self"):
    claims = {"scn": scenario, "grant": grant, "bind": bind, "acr": "L2"}
    return client(
        app, signer, audience="data-exchange", principal_type="citizen", subject=subject, **claims
    )


async def test_own_record_has_exactly_the_granted_fields(backend, signer, verifier):
    app = await make_app(backend, verifier)
    async with running(app):
        await _load(app, signer)
        async with _citizen(app, signer, ZHANG, {"population": ["sex", "name"]}) as zhang:
            # Any id in the query is ignored: the subject is the caller.
            own = await zhang.get(SELF, params={"id_number": LI, "record_id": "x"})
            assert own.status_code == 200, own.text
            assert own.json() == {"name": "张三", "sex": "男"}
        async with _citizen(app, signer, LI, {"population": ALL}) as li:
            full = (await li.get(SELF)).json()
            assert list(full) == ALL
            assert (full["name"], full["birth_date"], full["marital_status"]) == (
                "李四",
                "1988-06-30",
                "已婚",
            )
        # Fields outside the library, or another library only, grant nothing.
        async with _citizen(
            app, signer, ZHANG, {"population": ["id_number", "photo"], "license": ["x"]}
        ) as odd:
            refused = await odd.get(SELF)
            assert (refused.status_code, refused.json()["code"]) == (403, "no_grant")
        async with client(
            app, signer, audience="data-exchange", principal_type="citizen", subject=ZHANG
        ) as bare:
            refused = await bare.get(SELF)
            assert (refused.status_code, refused.json()["code"]) == (403, "no_grant")
        # A self read with a case-bound token (and the reverse) is refused.
        async with _citizen(app, signer, ZHANG, {"population": ["name"]}, bind="case") as wrong:
            refused = await wrong.get(SELF)
            assert (refused.status_code, refused.json()["code"]) == (403, "binding_mismatch")
        async with _citizen(app, signer, "acct:42", {"population": ["name"]}) as unbound:
            assert (await unbound.get(SELF)).status_code == 404


async def test_bound_record_is_the_case_applicant_and_only_for_staff(backend, signer, verifier):
    app = await make_app(backend, verifier)
    async with running(app):
        await _load(app, signer)
        cipher = PiiCipher.from_settings(app.state.runtime.settings)
        claims = {
            "scn": "window-case-lookup",
            "grant": {"population": ["name", "sex"]},
            "bind": "case",
            "bind_subject_index": cipher.blind_index(LI),
            "bind_presence": "id_card",
        }
        async with window_staff(app, signer, **claims) as staff:
            bound = await staff.get(BOUND, params={"id_number": ZHANG})
            assert (bound.status_code, bound.json()) == (200, {"name": "李四", "sex": "女"})
            # A self read under a case scenario is refused.
            assert (await staff.get(SELF)).json()["code"] == "binding_mismatch"
        async with window_staff(
            app, signer, **{**claims, "bind_subject_index": "not-an-index"}
        ) as forged:
            assert (await forged.get(BOUND)).json()["code"] == "binding_missing"
        # A case without the applicant's presence binds nobody (defence in depth).
        async with window_staff(
            app, signer, **{k: v for k, v in claims.items() if k != "bind_presence"}
        ) as absent:
            refused = await absent.get(BOUND)
            assert (refused.status_code, refused.json()["code"]) == (
                403,
                "applicant_presence_required",
            )
        # A citizen's token cannot name someone else's index.
        async with _citizen(app, signer, ZHANG, {"population": ["name"]}, bind="case") as citizen:
            refused = await citizen.get(BOUND)
            assert (refused.status_code, refused.json()["code"]) == (403, "binding_mismatch")


async def test_verify_answers_granted_fields_without_disclosing_values(backend, signer, verifier):
    app = await make_app(backend, verifier)
    async with running(app):
        await _load(app, signer)
        grant = {"population": ["name"]}
        async with _citizen(app, signer, ZHANG, grant, scenario="real-name-binding") as zhang:
            right = await zhang.post(VERIFY, json={"claims": {"name": " 张三 "}})
            assert (right.status_code, right.json()) == (200, {"name": True})
            wrong = await zhang.post(VERIFY, json={"claims": {"name": "李四"}})
            assert wrong.json() == {"name": False}
            assert "张三" not in wrong.text
            refused = await zhang.post(VERIFY, json={"claims": {"name": "张三", "sex": "男"}})
            assert (refused.status_code, refused.json()["code"]) == (403, "field_not_granted")
            assert refused.json()["fields"] == ["sex"]
            assert (await zhang.post(VERIFY, json={"claims": {}})).status_code == 422
        # Nobody on record: false, whatever the claim (existence is not disclosed).
        nobody = "11010120000101002X"
        async with _citizen(app, signer, nobody, grant, scenario="real-name-binding") as other:
            assert (await other.post(VERIFY, json={"claims": {"name": "张三"}})).json() == {
                "name": False
            }
