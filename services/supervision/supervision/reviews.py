"""Reviews (好差评) of completed cases by their applicants, one per case and channel,
announced in the same transaction; a bad review opens a handling item (差评整改)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from supervision import deadlines
from supervision.events import ReviewSubmitted
from supervision.models import CaseWatch, Review, ReviewHandling
from supervision.schemas import (
    RATING_LABELS,
    Grade,
    HandlingStatus,
    ReviewCreate,
    ReviewHandlingRead,
    ReviewRead,
)
from yiwang_platform.errors import ProblemError
from yiwang_platform.outbox import Outbox


def grade_of(rating: int) -> Grade:
    return "bad" if rating <= 2 else "good"


def review_exists() -> ProblemError:
    return ProblemError(
        409,
        "review_exists",
        "该办件已在此渠道评价",
        title_en="Case already reviewed on this channel",
    )


def _case_not_found(case_id: str) -> ProblemError:
    # The same answer for a case that does not exist and one the caller did not apply for.
    return ProblemError(
        404,
        "case_not_found",
        "办件不存在",
        detail=f"no case {case_id} of the caller",
        title_en="Case not found",
    )


async def submit(
    session: AsyncSession,
    outbox: Outbox,
    data: ReviewCreate,
    reviewer_index: str,
    now: datetime,
    handling_days: int,
) -> Review:
    case = await session.get(CaseWatch, data.case_id)
    if case is None or case.applicant_index is None or case.applicant_index != reviewer_index:
        raise _case_not_found(data.case_id)
    if case.status != "completed":
        raise ProblemError(
            409,
            "case_not_completed",
            "办件尚未办结，暂不能评价",
            detail=f"case is {case.status}",
            title_en="Case not completed yet",
        )
    taken = select(Review.id).where(Review.case_id == case.case_id, Review.channel == data.channel)
    if await session.scalar(taken) is not None:
        raise review_exists()
    grade = grade_of(data.rating)
    review = Review(
        id=str(uuid.uuid4()),
        case_id=case.case_id,
        rating=data.rating,
        grade=grade,
        comment=data.comment,
        channel=data.channel,
        submitted_at=now,
    )
    session.add(review)
    if grade == "bad":
        session.add(
            ReviewHandling(
                id=str(uuid.uuid4()),
                review_id=review.id,
                case_id=case.case_id,
                matter_code=case.matter_code,
                matter_name=case.matter_name,
                department=case.department,
                rating=review.rating,
                opened_at=now,
                due_date=deadlines.due_date(now, handling_days),
                status="open",
            )
        )
    await session.flush()
    await outbox.add(
        session,
        ReviewSubmitted(
            review_id=review.id,
            case_id=review.case_id,
            rating=review.rating,
            grade=grade,
            channel=review.channel,
            submitted_at=review.submitted_at,
        ),
        key=review.case_id,
    )
    return review


def review_read(review: Review) -> ReviewRead:
    return ReviewRead(
        id=review.id,
        case_id=review.case_id,
        rating=review.rating,
        rating_label=RATING_LABELS[review.rating],
        grade=review.grade,
        comment=review.comment,
        channel=review.channel,
        submitted_at=review.submitted_at,
    )


async def list_reviews(
    session: AsyncSession, grade: Grade | None, after: tuple[datetime, str] | None, limit: int
) -> list[Review]:
    """Reviews newest first, after the ``(submitted_at, id)`` of a page's last."""
    query = select(Review).order_by(Review.submitted_at.desc(), Review.id.desc()).limit(limit)
    if grade is not None:
        query = query.where(Review.grade == grade)
    if after is not None:
        at, review_id = after
        query = query.where(
            or_(Review.submitted_at < at, and_(Review.submitted_at == at, Review.id < review_id))
        )
    return list((await session.scalars(query)).all())


async def list_handlings(
    session: AsyncSession,
    status: HandlingStatus | None,
    department: str | None,
    after: tuple[date, str] | None,
    limit: int,
) -> list[ReviewHandling]:
    """Handling items by due date (most urgent first), after the ``(due_date, id)`` given."""
    query = select(ReviewHandling).order_by(ReviewHandling.due_date, ReviewHandling.id).limit(limit)
    if status is not None:
        query = query.where(ReviewHandling.status == status)
    if department is not None:
        query = query.where(ReviewHandling.department == department)
    if after is not None:
        due, handling_id = after
        query = query.where(
            or_(
                ReviewHandling.due_date > due,
                and_(ReviewHandling.due_date == due, ReviewHandling.id > handling_id),
            )
        )
    return list((await session.scalars(query)).all())


async def resolve(
    session: AsyncSession,
    handling_id: str,
    note: str,
    resolver: str,
    department: str | None,
    now: datetime,
) -> ReviewHandling:
    """Close a handling item; ``department`` is the caller's (None: a supervisor)."""
    handling = await session.get(ReviewHandling, handling_id, with_for_update=True)
    if handling is None:
        raise ProblemError(
            404, "handling_not_found", "整改事项不存在", title_en="Handling item not found"
        )
    if department is not None and department != handling.department:
        raise ProblemError(
            403,
            "forbidden",
            "无权处理其他部门的整改事项",
            detail="the handling item belongs to another department",
            title_en="Handling item of another department",
        )
    if handling.status != "open":
        raise ProblemError(
            409, "handling_closed", "整改事项已办结", title_en="Handling item already closed"
        )
    handling.status = "closed"
    handling.resolution_note = note
    handling.resolved_by = resolver
    handling.resolved_at = now
    await session.flush()
    return handling


def handling_read(handling: ReviewHandling, today: date, threshold: int) -> ReviewHandlingRead:
    is_open = handling.status == "open"
    return ReviewHandlingRead(
        id=handling.id,
        review_id=handling.review_id,
        case_id=handling.case_id,
        matter_code=handling.matter_code,
        matter_name=handling.matter_name,
        department=handling.department,
        rating=handling.rating,
        rating_label=RATING_LABELS[handling.rating],
        opened_at=handling.opened_at,
        due_date=handling.due_date,
        status="open" if is_open else "closed",
        remaining_working_days=(
            deadlines.remaining_working_days(handling.due_date, today) if is_open else None
        ),
        level=deadlines.level(handling.due_date, today, threshold) if is_open else "none",
        resolution_note=handling.resolution_note,
        resolved_by=handling.resolved_by,
        resolved_at=handling.resolved_at,
    )
