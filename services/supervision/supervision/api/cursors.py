"""Opaque page cursors of the supervision lists: "|"-joined parts of a row's sort key."""

from __future__ import annotations

from datetime import date

from yiwang_platform.errors import ProblemError
from yiwang_platform.pagination import decode_cursor, encode_cursor


def invalid_cursor() -> ProblemError:
    return ProblemError(400, "invalid_cursor", "分页游标无效", title_en="Invalid cursor")


def encode(*parts: str) -> str:
    return encode_cursor("|".join(parts))


def decode(cursor: str | None, count: int) -> list[str] | None:
    value = decode_cursor(cursor)
    if value is None:
        return None
    parts = value.split("|", count - 1)
    if len(parts) != count or not all(parts):
        raise invalid_cursor()
    return parts


def day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise invalid_cursor() from exc


def day_and_id(cursor: str | None) -> tuple[date, str] | None:
    parts = decode(cursor, 2)
    if parts is None:
        return None
    return day(parts[0]), parts[1]
