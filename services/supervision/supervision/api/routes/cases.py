"""/api/v1/supervision/cases: watched cases with their red/yellow cards."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from supervision import watches
from supervision.api.dependencies import OverseerDep
from supervision.deadlines import Card
from supervision.models import CaseWatch
from supervision.schemas import CaseWatchRead
from yiwang_platform.errors import ProblemError
from yiwang_platform.pagination import Page, decode_cursor, encode_cursor
from yiwang_platform.service import SessionDep
from yiwang_platform.workdays import china_today

router = APIRouter(prefix="/api/v1/supervision/cases", tags=["cases"])


def _cursor_of(watched: CaseWatch) -> str:
    return encode_cursor(f"{watched.due_date.isoformat()}|{watched.case_id}")


def _parse_cursor(cursor: str | None) -> tuple[date, str] | None:
    value = decode_cursor(cursor)
    if value is None:
        return None
    due, _, case_id = value.partition("|")
    try:
        due_date = date.fromisoformat(due)
    except ValueError as exc:
        raise ProblemError(
            400, "invalid_cursor", "分页游标无效", title_en="Invalid cursor"
        ) from exc
    if not case_id:
        raise ProblemError(400, "invalid_cursor", "分页游标无效", title_en="Invalid cursor")
    return due_date, case_id


@router.get(
    "",
    response_model=Page[CaseWatchRead],
    summary="Watched cases, most urgent first, with today's card",
)
async def list_cases(
    session: SessionDep,
    _overseer: OverseerDep,
    today: Annotated[date, Depends(china_today)],
    card: Card | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[CaseWatchRead]:
    rows = await watches.list_watches(session, today, card, _parse_cursor(cursor), limit)
    next_cursor = _cursor_of(rows[-1]) if len(rows) == limit else None
    return Page[CaseWatchRead](
        items=[watches.to_read(r, today) for r in rows], next_cursor=next_cursor
    )
