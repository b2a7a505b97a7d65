"""Opaque cursors for keyset pagination."""

from __future__ import annotations

import base64
from typing import Generic, TypeVar

from pydantic import BaseModel

from yiwang_platform.errors import ProblemError

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def encode_cursor(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> str | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return base64.b64decode(padded, altchars=b"-_", validate=True).decode()
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProblemError(
            400, "invalid_cursor", "分页游标无效", title_en="Invalid cursor"
        ) from exc
