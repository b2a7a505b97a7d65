"""/api/v1/supervision/cases: watched cases with their red/yellow cards, and each
case's timeline."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from supervision import deadlines, timelines, watches
from supervision.api.dependencies import OverseerDep, SettingsDep, TodayDep
from supervision.deadlines import Card
from supervision.models import RUNNING, CaseWatch, SubcaseWatch
from supervision.schemas import (
    CaseTimelineRead,
    CaseWatchRead,
    DeadlineRead,
    SubcaseTimelineRead,
    TimelineEntryRead,
)
from yiwang_platform.deps import SessionDep
from yiwang_platform.errors import ProblemError
from yiwang_platform.pagination import Page, decode_key, encode_key

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
    after = decode_key(cursor, date, str)
    rows = await watches.list_watches(session, today, threshold, card, after, limit)
    next_cursor = encode_key(rows[-1].due_date, rows[-1].case_id) if len(rows) == limit else None
    return Page[CaseWatchRead](
        items=[watches.to_read(r, today, threshold) for r in rows], next_cursor=next_cursor
    )


def _deadline(due: date | None, running: bool, today: date, threshold: int) -> DeadlineRead:
    if due is None:
        return DeadlineRead(due_date=None, remaining_working_days=None, level="none")
    if not running:
        # Closed, or suspended for 补正: the clock is stopped and no card shows.
        return DeadlineRead(due_date=due, remaining_working_days=None, level="none")
    return DeadlineRead(
        due_date=due,
        remaining_working_days=deadlines.remaining_working_days(due, today),
        level=deadlines.level(due, today, threshold),
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
    case = await session.get(CaseWatch, case_id) if len(case_id) <= 36 else None
    if case is None:
        raise ProblemError(404, "case_not_found", "办件不存在", title_en="Case not found")
    threshold = settings.yellow_working_days
    entries = await timelines.entries_of(session, case_id)

    def entries_for(subcase_id: str | None) -> list[TimelineEntryRead]:
        return [
            TimelineEntryRead(event_type=e.event_type, at=e.at, summary=e.summary)
            for e in entries
            if e.subcase_id == subcase_id
        ]

    def subcase_read(sub: SubcaseWatch) -> SubcaseTimelineRead:
        return SubcaseTimelineRead(
            subcase_id=sub.subcase_id,
            matter_code=sub.matter_code,
            matter_name=sub.matter_name,
            department=sub.department,
            depends_on=json.loads(sub.depends_on),
            status=sub.status,
            decision=sub.decision,
            deadline=_deadline(sub.due_date, sub.status == RUNNING, today, threshold),
            entries=entries_for(sub.subcase_id),
        )

    return CaseTimelineRead(
        case_id=case.case_id,
        matter_code=case.matter_code,
        matter_name=case.matter_name,
        department=case.department,
        channel=case.channel,
        status=case.status,
        outcome=case.outcome,
        submitted_at=case.submitted_at,
        accepted_at=case.accepted_at,
        deadline=_deadline(case.due_date, case.status == RUNNING, today, threshold),
        entries=entries_for(None),
        subcases=[subcase_read(s) for s in await timelines.subcases_of(session, case_id)],
    )
