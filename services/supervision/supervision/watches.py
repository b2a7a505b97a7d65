"""Watched cases with today's card, most urgent first."""

from __future__ import annotations

from datetime import date

from sqlalchemy import and_, not_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from supervision import deadlines, paging
from supervision.deadlines import Card
from supervision.models import RUNNING, CaseWatch
from supervision.schemas import CaseWatchRead
from yiwang_platform.pagination import decode_key, encode_key


async def list_watches(
    session: AsyncSession,
    cursor: str | None,
    *,
    today: date,
    threshold: int,
    card: Card | None,
    limit: int,
) -> tuple[list[CaseWatch], str | None]:
    """Watched cases by due date, after the page ``cursor`` ends; and the next page's
    cursor when this one is full."""
    after = decode_key(cursor, date, str)
    query = select(CaseWatch).order_by(CaseWatch.due_date, CaseWatch.case_id).limit(limit)
    # The same rule as deadlines.card, as a filter: only a running clock shows a card.
    running = CaseWatch.status == RUNNING
    red = and_(running, CaseWatch.due_date < today)
    yellow = and_(
        running,
        CaseWatch.due_date >= today,
        CaseWatch.due_date < deadlines.yellow_until(today, threshold),
    )
    if card == "red":
        query = query.where(red)
    elif card == "yellow":
        query = query.where(yellow)
    elif card == "green":
        query = query.where(not_(or_(red, yellow)))
    if after is not None:
        query = query.where(paging.after(CaseWatch.due_date, CaseWatch.case_id, key=after))
    rows = list((await session.scalars(query)).all())
    next_cursor = encode_key(rows[-1].due_date, rows[-1].case_id) if len(rows) == limit else None
    return rows, next_cursor


def card_of(watched: CaseWatch, today: date, *, threshold: int) -> Card:
    if watched.status != RUNNING:
        return "green"
    return deadlines.card(watched.due_date, today, threshold=threshold)


def to_read(watched: CaseWatch, *, today: date, threshold: int) -> CaseWatchRead:
    return CaseWatchRead(
        case_id=watched.case_id,
        matter_code=watched.matter_code,
        matter_name=watched.matter_name,
        department=watched.department,
        channel=watched.channel,
        promised_days=watched.promised_days,
        submitted_at=watched.submitted_at,
        due_date=watched.due_date,
        yellow_at=deadlines.yellow_at(watched.due_date, threshold),
        status=watched.status,
        card=card_of(watched, today, threshold=threshold),
    )
