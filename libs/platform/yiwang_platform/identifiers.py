"""National identifiers, checked one way at every entry point: resident ID numbers
(公民身份号码, GB 11643) and unified social credit codes (统一社会信用代码, GB 32100).

These are national standards, not domain rules. Beyond the check character (and the
region code and calendar date python-stdnum checks), an ID number whose birth date is
after today or before 1900 is refused: no one can be born tomorrow, and a number from
before 1900 is a typing error, not a living applicant.

Errors carry a reason naming what is wrong, never the value, so they may be logged,
dead-lettered or shown.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from datetime import date

from stdnum.cn import ric, uscc
from stdnum.exceptions import (
    InvalidChecksum,
    InvalidComponent,
    InvalidFormat,
    InvalidLength,
    ValidationError,
)

from yiwang_platform.workdays import china_today

EARLIEST_BIRTH = date(1900, 1, 1)


class InvalidIdentifier(ValueError):
    """``reason``: what is wrong (e.g. ``invalid checksum``), never the value."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@contextlib.contextmanager
def _reasons() -> Iterator[None]:
    """python-stdnum's errors as an InvalidIdentifier naming what is wrong."""
    try:
        yield
    except InvalidChecksum as exc:
        raise InvalidIdentifier("invalid checksum") from exc
    except InvalidLength as exc:
        raise InvalidIdentifier("invalid length") from exc
    except InvalidComponent as exc:  # only ID numbers have components
        raise InvalidIdentifier("invalid birth date or region code") from exc
    except (ValidationError, KeyError, ValueError, TypeError, AttributeError) as exc:
        raise InvalidIdentifier("invalid format") from exc


@functools.lru_cache(maxsize=65536)
def _region_existed(region: str, year: int) -> bool:
    """Whether python-stdnum knows ``region`` as a county code in ``year``."""
    try:
        ric.get_birth_place(f"{region}{year:04d}0101000" + "0")
    except ValidationError:
        return False
    return True


def resident_id(value: str, *, today: date | None = None) -> str:
    """The ID number in compact form (upper-case X) once valid; else InvalidIdentifier.

    ``today``: the day in China against which a birth date is in the future (default:
    today in China)."""
    with _reasons():
        # ric.validate's steps, with the region look-up (most of its ~45 µs) memoised.
        number = ric.compact(value)
        if len(number) != 18:
            raise InvalidLength()
        if not number[:-1].isdigit() or not number[:-1].isascii():
            raise InvalidFormat()
        if number[-1] != ric.calc_check_digit(number):
            raise InvalidChecksum()
        born = ric.get_birth_date(number)
        if not _region_existed(number[:6], born.year):
            raise InvalidComponent()
    if born > (today or china_today()):
        raise InvalidIdentifier("birth date in the future")
    if born < EARLIEST_BIRTH:
        raise InvalidIdentifier("birth date before 1900")
    return number


def is_resident_id(value: object, *, today: date | None = None) -> bool:
    if not isinstance(value, str):
        return False
    try:
        resident_id(value, today=today)
    except InvalidIdentifier:
        return False
    return True


def credit_code(value: str) -> str:
    """The credit code in compact form once its check character is valid; else
    InvalidIdentifier."""
    with _reasons():
        return str(uscc.validate(value))


def is_credit_code(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        credit_code(value)
    except InvalidIdentifier:
        return False
    return True
