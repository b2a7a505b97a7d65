"""/api/v1/supervision/review-handlings: bad reviews the case's department must handle
(差评整改) by a deadline in working days."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from supervision import reviews
from supervision.api.deps import NowDep, PrincipalDep, SessionDep, SettingsDep, TodayDep
from supervision.schemas import HandlingStatus, ResolutionCreate, ReviewHandlingRead
from yiwang_platform.pagination import Page

router = APIRouter(prefix="/api/v1/supervision/review-handlings", tags=["review-handlings"])


@router.get(
    "",
    response_model=Page[ReviewHandlingRead],
    summary="Bad-review handling items, most urgent first (staff: their department's)",
)
async def list_handlings(
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    today: TodayDep,
    status: HandlingStatus | None = None,
    department: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[ReviewHandlingRead]:
    rows, next_cursor = await reviews.list_handlings(
        session, cursor, viewer=principal, status=status, department=department, limit=limit
    )
    threshold = settings.yellow_working_days
    return Page[ReviewHandlingRead](
        items=[reviews.handling_read(r, today=today, threshold=threshold) for r in rows],
        next_cursor=next_cursor,
    )


@router.post(
    "/{handling_id}/resolution",
    response_model=ReviewHandlingRead,
    summary="Close a handling item with a note (the case's department or a supervisor)",
)
async def resolve_handling(
    handling_id: str,
    body: ResolutionCreate,
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    now: NowDep,
    today: TodayDep,
) -> ReviewHandlingRead:
    async with session.begin():
        handling = await reviews.resolve(
            session, handling_id, note=body.note, resolver=principal, now=now
        )
    return reviews.handling_read(handling, today=today, threshold=settings.yellow_working_days)
