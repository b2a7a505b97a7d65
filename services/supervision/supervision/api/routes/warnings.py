"""/api/v1/supervision/warnings: red and yellow cards (红黄牌) of cases, sub-cases and
bad-review handling items, and their counts by department."""

from __future__ import annotations

from datetime import date
from typing import Annotated, get_args

from fastapi import APIRouter, Query

from supervision import warnings
from supervision.api.dependencies import OverseerDep, SettingsDep, TodayDep
from supervision.schemas import WarningKind, WarningLevel, WarningRead, WarningSummaryRead
from yiwang_platform.deps import SessionDep
from yiwang_platform.pagination import Page, decode_key, encode_key

router = APIRouter(prefix="/api/v1/supervision/warnings", tags=["warnings"])

# Every kind a page can end on, supplements included: read from the type, not listed again.
_KINDS = frozenset(get_args(WarningKind))


@router.get(
    "",
    response_model=Page[WarningRead],
    summary="Today's yellow and red cards, most urgent first",
)
async def list_warnings(
    session: SessionDep,
    _overseer: OverseerDep,
    settings: SettingsDep,
    today: TodayDep,
    department: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    level: WarningLevel | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[WarningRead]:
    items, last = await warnings.list_warnings(
        session,
        today,
        settings.yellow_working_days,
        department,
        level,
        decode_key(cursor, date, _KINDS, str),
        limit,
    )
    next_cursor = encode_key(*last) if last else None
    return Page[WarningRead](items=items, next_cursor=next_cursor)


@router.get(
    "/summary",
    response_model=WarningSummaryRead,
    summary="Today's yellow and red cards counted by department",
)
async def warning_summary(
    session: SessionDep, _overseer: OverseerDep, settings: SettingsDep, today: TodayDep
) -> WarningSummaryRead:
    return await warnings.summary(session, today, settings.yellow_working_days)
