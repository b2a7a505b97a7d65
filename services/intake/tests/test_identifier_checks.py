"""Applicants' ID numbers pass the platform's one check at every intake entry point:
window submissions and pre-reviews refuse a wrong GB 11643 check digit and a birth date
in the future; online, ID numbers in the form are checked the same way."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select
from stdnum.cn import ric

from intake.models import Case
from yiwang_platform.testing import client
from yiwang_platform.workdays import china_today

APPLICATIONS = "/api/v1/intake/applications"
PRE_REVIEWS = APPLICATIONS + "/pre-reviews"
VALID = "110101199003074514"


def id_number(birth: date) -> str:
    body = f"110101{birth:%Y%m%d}123"
    return body + ric.calc_check_digit(body + "0")


WRONG_CHECK = VALID[:-1] + "5"
NOT_BORN_YET = id_number(china_today() + timedelta(days=400))
BORN_1899 = id_number(date(1899, 6, 1))


async def _cases(app) -> int:
    async with app.state.runtime.sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(Case)) or 0)


async def test_a_window_refuses_an_applicant_id_that_fails_the_check(app, signer, publish_matter):
    await publish_matter()
    body = {"matter_code": "11000000000001", "channel": "window", "form": {}}
    async with client(
        app, signer, audience="intake", subject="staff-7", principal_type="staff"
    ) as staff:
        for number, reason in (
            (WRONG_CHECK, "invalid checksum"),
            (NOT_BORN_YET, "birth date in the future"),
            (BORN_1899, "birth date before 1900"),
        ):
            for url in (APPLICATIONS, PRE_REVIEWS):
                refused = await staff.post(url, json={**body, "applicant_id_number": number})
                assert refused.status_code == 422, (url, number)
                problem = refused.json()
                assert problem["code"] == "id_number_invalid"
                assert problem["detail"] == f"applicant_id_number: {reason}"
                assert number not in refused.text
        assert await _cases(app) == 0
        created = await staff.post(APPLICATIONS, json={**body, "applicant_id_number": VALID})
        assert created.status_code == 201, created.text


async def test_online_forms_are_checked_by_the_same_rule(app, signer, publish_matter):
    await publish_matter()
    async with client(
        app, signer, audience="intake", subject=VALID, principal_type="citizen"
    ) as me:
        for number in (WRONG_CHECK, NOT_BORN_YET):
            body = {"matter_code": "11000000000001", "form": {"mother_id_number": number}}
            review = await me.post(PRE_REVIEWS, json=body)
            assert review.status_code == 200
            assert [(p["code"], p["target"]) for p in review.json()["problems"]] == [
                ("id_number_invalid", "mother_id_number")
            ]
            submitted = await me.post(APPLICATIONS, json=body)
            assert (submitted.status_code, submitted.json()["code"]) == (422, "pre_review_failed")
    assert await _cases(app) == 0
