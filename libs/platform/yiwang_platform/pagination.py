"""Opaque cursors for keyset pagination.

A cursor carries the sort key of a page's last row: ``encode_key`` joins its typed
parts, ``decode_key`` parses them back against the types the list expects and answers
400 ``invalid_cursor`` for anything it did not make (wrong count, wrong types, a naive
time, an integer past BIGINT, control bytes, a value outside an enumeration), so a
crafted cursor never reaches the database.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Collection
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from yiwang_platform.errors import ProblemError

T = TypeVar("T")

_SEPARATOR = "|"
_BIGINT_MAX = 2**63 - 1
_MAX_TEXT = 256
_DIGITS = re.compile(r"[0-9]{1,19}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

# What one part of a key may be: a type, or the allowed values of an enumeration.
KeyPart = type[datetime] | type[date] | type[int] | type[str] | Collection[str]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def invalid_cursor() -> ProblemError:
    return ProblemError(400, "invalid_cursor", "分页游标无效", title_en="Invalid cursor")


def encode_cursor(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> str | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return base64.b64decode(padded, altchars=b"-_", validate=True).decode()
    except (ValueError, UnicodeDecodeError) as exc:
        raise invalid_cursor() from exc


def encode_key(*parts: datetime | date | int | str) -> str:
    """The cursor of a row whose sort key is ``parts`` (times keep their zone)."""
    texts = [p.isoformat() if isinstance(p, date) else str(p) for p in parts]
    if any(_SEPARATOR in t for t in texts[:-1]):
        raise ValueError("only the last part of a cursor key may hold the separator")
    return encode_cursor(_SEPARATOR.join(texts))


def decode_key(cursor: str | None, *parts: KeyPart) -> tuple[Any, ...] | None:
    """The key ``encode_key`` put in ``cursor``, each part parsed as ``parts`` says;
    None for no cursor, a 400 ``invalid_cursor`` problem for anything else."""
    value = decode_cursor(cursor)
    if value is None:
        return None
    texts = value.split(_SEPARATOR, len(parts) - 1)
    if len(texts) != len(parts):
        raise invalid_cursor()
    return tuple(_parse(text, part) for text, part in zip(texts, parts, strict=True))


def _parse(text: str, part: KeyPart) -> Any:
    if not text or len(text) > _MAX_TEXT or _CONTROL.search(text):
        raise invalid_cursor()
    if part is datetime:
        try:
            moment = datetime.fromisoformat(text)
        except ValueError as exc:
            raise invalid_cursor() from exc
        # A cursor without a zone is not one we made, and aware columns refuse it.
        if moment.tzinfo is None:
            raise invalid_cursor()
        return moment
    if part is date:
        try:
            return date.fromisoformat(text)
        except ValueError as exc:
            raise invalid_cursor() from exc
    if part is int:
        # ASCII digits only (str.isdigit accepts "²"), and within a BIGINT column.
        if not _DIGITS.fullmatch(text) or int(text) > _BIGINT_MAX:
            raise invalid_cursor()
        return int(text)
    if part is str:
        return text
    if isinstance(part, type | str) or text not in part:
        raise invalid_cursor()
    return text


def decode_id(cursor: str | None) -> str | None:
    """The one text part of a cursor ``encode_key(row_id)`` made; None for no cursor."""
    key = decode_key(cursor, str)
    return None if key is None else str(key[0])
