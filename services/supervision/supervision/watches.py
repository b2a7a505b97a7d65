"""Watching submitted cases against their deadlines."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from supervision import deadlines
from supervision.deadlines import Card
from supervision.models import CaseWatch
from supervision.schemas import CaseWatchRead


async def watch(
    session: AsyncSession,
    case_id: str,
    matter_code: str,
    matter_name: str,
    department: str,
    channel: str,
    promised_days: int,
    submitted_at: datetime,
) -> None:
    """Start watching a case; a case already watched is left as it is."""
    if await session.get(CaseWatch, case_id) is not None:
        return
    due = deadlines.due_date(submitted_at, promised_days)
    session.add(
        CaseWatch(
            case_id=case_id,
            matter_code=matter_code,
            matter_name=matter_name,
            department=department,
            channel=channel,
            promised_days=promised_days,
            submitted_at=submitted_at,
            due_date=due,
            yellow_at=deadlines.yellow_at(due),
            status="open",
        )
    )
    await session.flush()


async def list_watches(
    session: AsyncSession,
    today: date,
    card: Card | None,
    after: tuple[date, str] | None,
    limit: int,
) -> list[CaseWatch]:
    """Watched cases by due date (most urgent first), after the ``(due_date, case_id)`` given."""
    query = select(CaseWatch).order_by(CaseWatch.due_date, CaseWatch.case_id).limit(limit)
    # The same rule as deadlines.card, as a filter.
    if card == "red":
        query = query.where(CaseWatch.due_date < today)
    elif card == "yellow":
        query = query.where(CaseWatch.yellow_at <= today, CaseWatch.due_date >= today)
    elif card == "green":
        query = query.where(CaseWatch.yellow_at > today)
    if after is not None:
        due, case_id = after
        query = query.where(
            or_(
                CaseWatch.due_date > due,
                and_(CaseWatch.due_date == due, CaseWatch.case_id > case_id),
            )
        )
    return list((await session.scalars(query)).all())


def to_read(watched: CaseWatch, today: date) -> CaseWatchRead:
    return CaseWatchRead(
        case_id=watched.case_id,
        matter_code=watched.matter_code,
        matter_name=watched.matter_name,
        department=watched.department,
        channel=watched.channel,
        promised_days=watched.promised_days,
        submitted_at=watched.submitted_at,
        due_date=watched.due_date,
        yellow_at=watched.yellow_at,
        status=watched.status,
        card=deadlines.card(watched.due_date, watched.yellow_at, today),
    )
