"""/api/v1/supervision/review-handlings: bad reviews the case's department must handle
(差评整改) by a deadline in working days."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from supervision import reviews
from supervision.api.dependencies import (
    OVERSEERS,
    NowDep,
    SettingsDep,
    TodayDep,
    staff_department,
)
from supervision.schemas import HandlingStatus, ResolutionCreate, ReviewHandlingRead
from yiwang_platform.deps import PrincipalDep, SessionDep
from yiwang_platform.errors import ProblemError
from yiwang_platform.internal_token import InternalPrincipal
from yiwang_platform.pagination import Page, decode_key, encode_key

router = APIRouter(prefix="/api/v1/supervision/review-handlings", tags=["review-handlings"])


def _forbidden() -> ProblemError:
    return ProblemError(
        403, "forbidden", "无权访问", "review handlings are for supervisors and department staff"
    )


def _department_scope(principal: InternalPrincipal) -> str | None:
    """None for overseers (every department); a staff member sees their own department."""
    if principal.principal_type in OVERSEERS:
        return None
    department = staff_department(principal)
    if department is None:
        raise _forbidden()
    return department


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
    own = _department_scope(principal)
    if own is not None:
        if department not in (None, own):
            raise _forbidden()
        department = own
    rows = await reviews.list_handlings(
        session, status, department, decode_key(cursor, date, str), limit
    )
    next_cursor = encode_key(rows[-1].due_date, rows[-1].id) if len(rows) == limit else None
    threshold = settings.yellow_working_days
    return Page[ReviewHandlingRead](
        items=[reviews.handling_read(r, today, threshold) for r in rows], next_cursor=next_cursor
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
    if principal.principal_type == "supervisor":
        department = None
    else:
        department = staff_department(principal)
        if department is None:
            raise _forbidden()
    async with session.begin():
        handling = await reviews.resolve(
            session, handling_id, body.note, principal.subject, department, now
        )
        result = reviews.handling_read(handling, today, settings.yellow_working_days)
    return result
