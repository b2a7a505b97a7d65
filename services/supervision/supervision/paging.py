"""Keyset paging: the rows after a page's last, in a list ordered by two columns."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, or_
from sqlalchemy.orm import InstrumentedAttribute


def after(
    first: InstrumentedAttribute[Any],
    second: InstrumentedAttribute[Any],
    *,
    key: tuple[Any, Any],
    descending: bool = False,
) -> ColumnElement[bool]:
    """Rows that come after ``key`` in the order ``(first, second)``."""
    a, b = key
    if descending:
        return or_(first < a, and_(first == a, second < b))
    return or_(first > a, and_(first == a, second > b))
