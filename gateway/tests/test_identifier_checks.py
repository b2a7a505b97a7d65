"""The real-name route's ID-number check is the platform's: a wrong check digit and a
birth date in the future are both a 422 ``id_number_invalid`` naming the reason, never
the number, before anything asks the population library."""

from __future__ import annotations

from datetime import timedelta

import pytest
from stdnum.cn import ric

from gateway.identity.accounts import check_id_number
from yiwang_platform.errors import ProblemError
from yiwang_platform.workdays import china_today

VALID = "110101199003074514"


def unborn() -> str:
    body = f"110101{china_today() + timedelta(days=400):%Y%m%d}123"
    return body + ric.calc_check_digit(body + "0")


def test_a_valid_number_is_bound_in_compact_form() -> None:
    assert check_id_number(VALID) == VALID


@pytest.mark.parametrize(
    ("number", "reason"),
    [(VALID[:-1] + "5", "invalid checksum"), (unborn(), "birth date in the future")],
)
def test_an_invalid_number_is_a_422_with_the_reason(number: str, reason: str) -> None:
    with pytest.raises(ProblemError) as exc:
        check_id_number(number)

    assert (exc.value.status, exc.value.code) == (422, "id_number_invalid")
    assert exc.value.detail == f"not a valid resident ID number: {reason}"
    assert number not in str(exc.value.detail)
