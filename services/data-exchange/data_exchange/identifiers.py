"""Resident ID numbers (GB 11643): the checks JSON Schema cannot do, and masking."""

from __future__ import annotations

from datetime import date

from stdnum.cn import ric
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidLength, ValidationError


class InvalidRecord(ValueError):
    """A record that can never be applied. The message names the field, never its value."""


def checked_id_number(id_number: str, birth_date: date) -> str:
    """The ID number in compact form (upper-case X) once its checksum and region code
    are valid and its embedded birth date is ``birth_date``."""
    try:
        number = ric.validate(id_number)
    except InvalidChecksum as exc:
        raise InvalidRecord("id_number: invalid checksum") from exc
    except InvalidLength as exc:
        raise InvalidRecord("id_number: invalid length") from exc
    except InvalidComponent as exc:
        raise InvalidRecord("id_number: invalid birth date or region code") from exc
    except (ValidationError, KeyError) as exc:
        raise InvalidRecord("id_number: invalid format") from exc
    if ric.get_birth_date(number) != birth_date:
        raise InvalidRecord("birth_date: does not match id_number")
    return number


def mask_id_number(value: str) -> str:
    return f"{value[:6]}********{value[-1:]}"


def mask_name(value: str) -> str:
    """Keep the family name: 张三 -> 张*."""
    return value[:1] + "*" * (len(value) - 1)
