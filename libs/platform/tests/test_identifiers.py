"""The one identifier check every entry point uses: GB 11643 ID numbers (with birth
dates neither in the future nor before 1900) and GB 32100 credit codes."""

from __future__ import annotations

import random
from datetime import date

import pytest
from stdnum.cn import ric

from yiwang_platform.identifiers import (
    InvalidIdentifier,
    credit_code,
    is_credit_code,
    is_resident_id,
    resident_id,
)

TODAY = date(2026, 12, 2)


def id_number(birth: date, sequence: int = 123) -> str:
    body = f"110101{birth:%Y%m%d}{sequence:03d}"
    return body + ric.calc_check_digit(body + "0")


def wrong_check(number: str) -> str:
    return number[:-1] + ("1" if number[-1] != "1" else "2")


def test_a_valid_number_comes_back_compact() -> None:
    number = id_number(date(1990, 3, 7))
    assert resident_id(number, today=TODAY) == number
    assert resident_id(f" {number} ", today=TODAY) == number
    with_x = next(n for n in (id_number(date(1990, 3, 7), i) for i in range(999)) if "X" in n)
    assert resident_id(with_x.lower(), today=TODAY) == with_x
    assert resident_id(id_number(TODAY), today=TODAY) == id_number(TODAY)  # born today


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (wrong_check(id_number(date(1990, 3, 7))), "invalid checksum"),
        ("1101011990030712", "invalid length"),
        ("1101011990030A1234", "invalid format"),
        (id_number(date(2026, 12, 3)), "birth date in the future"),
        (id_number(date(2031, 1, 1)), "birth date in the future"),
        (id_number(date(1899, 12, 31)), "birth date before 1900"),
    ],
)
def test_an_invalid_number_is_refused_with_a_reason_not_the_value(value, reason) -> None:
    with pytest.raises(InvalidIdentifier) as exc:
        resident_id(value, today=TODAY)
    assert exc.value.reason == reason
    assert value not in str(exc.value)
    assert not is_resident_id(value, today=TODAY)


def test_non_strings_are_not_numbers() -> None:
    assert not is_resident_id(None)
    assert not is_resident_id(110101199003074514)
    assert not is_credit_code(["91350100M000100Y43"])


def test_credit_codes() -> None:
    assert credit_code("91350100M000100Y43") == "91350100M000100Y43"
    assert is_credit_code("91350100M000100Y43")
    with pytest.raises(InvalidIdentifier) as exc:
        credit_code("91350100M000100Y44")
    assert exc.value.reason == "invalid checksum"


def test_the_memoised_region_check_agrees_with_python_stdnum() -> None:
    rng = random.Random(11)
    regions = ["110101", "330106", "330108", "440305", "999999", "110100", "510107"]
    agreed = 0
    for _ in range(3000):
        born = date(1900, 1, 1).toordinal() + rng.randrange(125 * 365)
        body = f"{rng.choice(regions)}{date.fromordinal(born):%Y%m%d}{rng.randrange(1000):03d}"
        number = body + (ric.calc_check_digit(body + "0") if rng.random() < 0.9 else "0")
        try:
            ours = resident_id(number, today=date(2030, 1, 1)) == number
        except InvalidIdentifier:
            ours = False
        assert ours == ric.is_valid(number), number
        agreed += ours
    assert agreed > 1000  # most were valid: the comparison covered both answers
