"""/api/v1/supervision/cases: watched cases with their red/yellow cards, and each
case's timeline."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from supervision import timelines, watches
from supervision.api.deps import OverseerDep, SessionDep, SettingsDep, TodayDep
from supervision.deadlines import Card
from supervision.schemas import CaseTimelineRead, CaseWatchRead
from yiwang_platform.pagination import Page

router = APIRouter(prefix="/api/v1/supervision/cases", tags=["cases"])


@router.get(
    "",
    response_model=Page[CaseWatchRead],
    summary="Watched cases, most urgent first, with today's card",
)
async def list_cases(
    session: SessionDep,
    _overseer: OverseerDep,
    settings: SettingsDep,
    today: TodayDep,
    card: Card | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[CaseWatchRead]:
    threshold = settings.yellow_working_days
    rows, next_cursor = await watches.list_watches(
        session, cursor, today=today, threshold=threshold, card=card, limit=limit
    )
    return Page[CaseWatchRead](
        items=[watches.to_read(r, today=today, threshold=threshold) for r in rows],
        next_cursor=next_cursor,
    )


@router.get(
    "/{case_id}/timeline",
    response_model=CaseTimelineRead,
    summary="A case's steps and deadlines, and those of its sub-cases",
)
async def get_timeline(
    case_id: str,
    session: SessionDep,
    _overseer: OverseerDep,
    settings: SettingsDep,
    today: TodayDep,
) -> CaseTimelineRead:
    return await timelines.case_timeline(
        session, case_id, today=today, threshold=settings.yellow_working_days
    )
