"""Resident ID numbers (GB 11643): the checks JSON Schema cannot do, and masking."""

from __future__ import annotations

from stdnum.cn import ric
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidLength, ValidationError


class InvalidRecord(ValueError):
    """A record that can never be applied. The message names the field, never its value."""


def checked_id_number(id_number: str) -> str:
    """The ID number in compact form (upper-case X) once its checksum, birth date and
    region code are valid."""
    try:
        return ric.validate(id_number)
    except InvalidChecksum as exc:
        raise InvalidRecord("id_number: invalid checksum") from exc
    except InvalidLength as exc:
        raise InvalidRecord("id_number: invalid length") from exc
    except InvalidComponent as exc:
        raise InvalidRecord("id_number: invalid birth date or region code") from exc
    except (ValidationError, KeyError) as exc:
        raise InvalidRecord("id_number: invalid format") from exc


def birth_date_of(id_number: str) -> object:
    return ric.get_birth_date(id_number)


def mask_id_number(value: str) -> str:
    return f"{value[:6]}********{value[-1:]}"


def mask_name(value: str) -> str:
    """Keep the family name: 张三 -> 张*."""
    return value[:1] + "*" * (len(value) - 1)
