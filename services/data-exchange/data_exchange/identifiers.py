"""Resident ID numbers (GB 11643) and unified social credit codes (GB 32100): the
checks JSON Schema cannot do, and masking."""

from __future__ import annotations

from datetime import date

from stdnum.cn import ric, uscc
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidLength, ValidationError


class InvalidRecord(ValueError):
    """A record that can never be applied. The message names the field, never its value."""


def checked_resident_id(id_number: str, field: str = "id_number") -> str:
    """The ID number in compact form (upper-case X) once its checksum, birth date and
    region code are valid. Errors name ``field``."""
    try:
        return ric.validate(id_number)
    except InvalidChecksum as exc:
        raise InvalidRecord(f"{field}: invalid checksum") from exc
    except InvalidLength as exc:
        raise InvalidRecord(f"{field}: invalid length") from exc
    except InvalidComponent as exc:
        raise InvalidRecord(f"{field}: invalid birth date or region code") from exc
    except (ValidationError, KeyError, ValueError) as exc:
        raise InvalidRecord(f"{field}: invalid format") from exc


def checked_id_number(id_number: str, birth_date: date) -> str:
    """The ID number in compact form once valid and its embedded birth date is ``birth_date``."""
    number = checked_resident_id(id_number)
    if ric.get_birth_date(number) != birth_date:
        raise InvalidRecord("birth_date: does not match id_number")
    return number


def checked_uscc(code: str, field: str = "uscc") -> str:
    """The credit code in compact form once its GB 32100 check character is valid."""
    try:
        return uscc.validate(code)
    except InvalidChecksum as exc:
        raise InvalidRecord(f"{field}: invalid checksum") from exc
    except InvalidLength as exc:
        raise InvalidRecord(f"{field}: invalid length") from exc
    except (ValidationError, ValueError) as exc:
        raise InvalidRecord(f"{field}: invalid format") from exc


def mask_id_number(value: str) -> str:
    return f"{value[:6]}********{value[-1:]}"


def mask_name(value: str) -> str:
    """Keep the family name: 张三 -> 张*."""
    return value[:1] + "*" * (len(value) - 1)
