"""Red and yellow cards (红黄牌) of everything with a running deadline: cases, sub-cases,
materials owed after 容缺受理 and bad-review handling items (差评整改), computed
against a given day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, get_args

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from supervision import deadlines
from supervision.models import RUNNING, CaseWatch, ReviewHandling, SubcaseWatch, SupplementWatch
from supervision.schemas import (
    DepartmentWarnings,
    WarningKind,
    WarningLevel,
    WarningRead,
    WarningSummaryRead,
)
from yiwang_platform.pagination import decode_key, encode_key

Cursor = tuple[date, str, str]  # (due_date, kind, id): the order of the list
# Every kind a page can end on, supplements included: read from the type, not listed again.
_KINDS = frozenset(get_args(WarningKind))


@dataclass(frozen=True)
class _Source:
    kind: WarningKind
    model: Any
    id_column: Any
    open_status: str


# Kinds in cursor order (alphabetical, as the cursor compares them as strings).
_SOURCES = [
    _Source("case", CaseWatch, CaseWatch.case_id, RUNNING),
    _Source("review_handling", ReviewHandling, ReviewHandling.id, "open"),
    _Source("subcase", SubcaseWatch, SubcaseWatch.subcase_id, RUNNING),
    # 容缺: materials still missing as their supplement date nears or passes.
    _Source("supplement", SupplementWatch, SupplementWatch.case_id, RUNNING),
]


def _window(
    source: _Source, today: date, *, threshold: int, level: WarningLevel | None
) -> ColumnElement[bool]:
    due = source.model.due_date
    conditions = [source.model.status == source.open_status, due.is_not(None)]
    if level == "red":
        conditions.append(due < today)
    else:
        conditions.append(due < deadlines.yellow_until(today, threshold))
        if level == "yellow":
            conditions.append(due >= today)
    return and_(*conditions)


def _after(source: _Source, cursor: Cursor) -> ColumnElement[bool]:
    due_after, kind_after, id_after = cursor
    due = source.model.due_date
    if source.kind > kind_after:
        return due >= due_after
    if source.kind == kind_after:
        return or_(due > due_after, and_(due == due_after, source.id_column > id_after))
    return due > due_after


def _to_read(source: _Source, row: Any, *, today: date) -> WarningRead:
    # The query selected only due dates inside the yellow window or past.
    level: WarningLevel = "red" if row.due_date < today else "yellow"
    return WarningRead(
        kind=source.kind,
        id=getattr(row, source.id_column.key),
        case_id=row.case_id,
        subcase_id=row.subcase_id if source.kind == "subcase" else None,
        department=row.department,
        matter_code=row.matter_code,
        matter_name=row.matter_name,
        due_date=row.due_date,
        remaining_working_days=deadlines.remaining_working_days(row.due_date, today),
        level=level,
    )


async def list_warnings(
    session: AsyncSession,
    cursor: str | None,
    *,
    today: date,
    threshold: int,
    department: str | None,
    level: WarningLevel | None,
    limit: int,
) -> tuple[list[WarningRead], str | None]:
    """Most urgent first: by due date, then kind, then id, after the page ``cursor`` ends;
    and the next page's cursor when this one is full. Each source is read in that order
    up to ``limit`` and the results merged, so pages are exact."""
    after: Cursor | None = decode_key(cursor, date, _KINDS, str)
    found: list[tuple[Cursor, WarningRead]] = []
    for source in _SOURCES:
        query = select(source.model).where(_window(source, today, threshold=threshold, level=level))
        if department is not None:
            query = query.where(source.model.department == department)
        if after is not None:
            query = query.where(_after(source, after))
        query = query.order_by(source.model.due_date, source.id_column).limit(limit)
        for row in (await session.scalars(query)).all():
            item = _to_read(source, row, today=today)
            found.append(((item.due_date, item.kind, item.id), item))
    found.sort(key=lambda pair: pair[0])
    page = found[:limit]
    next_cursor = encode_key(*page[-1][0]) if len(page) == limit else None
    return [item for _, item in page], next_cursor


async def summary(session: AsyncSession, today: date, *, threshold: int) -> WarningSummaryRead:
    counts: dict[str, list[int]] = {}
    for source in _SOURCES:
        red = func.sum(case((source.model.due_date < today, 1), else_=0))
        query = (
            select(source.model.department, func.count(), red)
            .where(_window(source, today, threshold=threshold, level=None))
            .group_by(source.model.department)
        )
        for department, total, reds in (await session.execute(query)).all():
            entry = counts.setdefault(department, [0, 0])
            entry[0] += int(total) - int(reds or 0)
            entry[1] += int(reds or 0)
    departments = [
        DepartmentWarnings(department=d, yellow=yellow, red=red)
        for d, (yellow, red) in sorted(counts.items())
    ]
    return WarningSummaryRead(
        today=today,
        yellow=sum(d.yellow for d in departments),
        red=sum(d.red for d in departments),
        departments=departments,
    )
