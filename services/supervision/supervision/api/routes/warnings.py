"""/api/v1/supervision/warnings: red and yellow cards (红黄牌) of cases, sub-cases and
bad-review handling items, and their counts by department."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from supervision import warnings
from supervision.api.deps import OverseerDep, SessionDep, SettingsDep, TodayDep
from supervision.schemas import WarningLevel, WarningRead, WarningSummaryRead
from yiwang_platform.pagination import Page

router = APIRouter(prefix="/api/v1/supervision/warnings", tags=["warnings"])


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
    items, next_cursor = await warnings.list_warnings(
        session,
        cursor,
        today=today,
        threshold=settings.yellow_working_days,
        department=department,
        level=level,
        limit=limit,
    )
    return Page[WarningRead](items=items, next_cursor=next_cursor)


@router.get(
    "/summary",
    response_model=WarningSummaryRead,
    summary="Today's yellow and red cards counted by department",
)
async def warning_summary(
    session: SessionDep, _overseer: OverseerDep, settings: SettingsDep, today: TodayDep
) -> WarningSummaryRead:
    return await warnings.summary(session, today, threshold=settings.yellow_working_days)
