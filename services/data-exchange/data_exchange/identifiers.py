"""Resident ID numbers (GB 11643) and unified social credit codes (GB 32100): the
checks JSON Schema cannot do, and masking."""

from __future__ import annotations

from datetime import date

from stdnum.cn import ric

from yiwang_platform.identifiers import InvalidIdentifier, credit_code, resident_id


class InvalidRecord(ValueError):
    """A record that can never be applied. The message names the field, never its value."""


def checked_resident_id(
    id_number: str, field: str = "id_number", *, today: date | None = None
) -> str:
    """The ID number in compact form (upper-case X) once the platform's check passes
    (checksum, region, a birth date neither in the future nor before 1900). Errors name
    ``field``."""
    try:
        return resident_id(id_number, today=today)
    except InvalidIdentifier as exc:
        raise InvalidRecord(f"{field}: {exc.reason}") from exc


def checked_id_number(id_number: str, birth_date: date, *, today: date | None = None) -> str:
    """The ID number in compact form once valid and its embedded birth date is ``birth_date``."""
    number = checked_resident_id(id_number, today=today)
    if ric.get_birth_date(number) != birth_date:
        raise InvalidRecord("birth_date: does not match id_number")
    return number


def checked_uscc(code: str, field: str = "uscc") -> str:
    """The credit code in compact form once its GB 32100 check character is valid."""
    try:
        return credit_code(code)
    except InvalidIdentifier as exc:
        raise InvalidRecord(f"{field}: {exc.reason}") from exc


def mask_id_number(value: str) -> str:
    return f"{value[:6]}********{value[-1:]}"


def mask_name(value: str) -> str:
    """Keep the family name: 张三 -> 张*."""
    return value[:1] + "*" * (len(value) - 1)
