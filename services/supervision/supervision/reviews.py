"""Reviews (好差评) of completed cases by their applicants, one per case and channel,
announced in the same transaction; a bad review opens a handling item (差评整改)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from supervision import deadlines, paging
from supervision.access import handlings_department, resolver_department
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
from yiwang_platform.idempotency import Idempotency
from yiwang_platform.internal_token import InternalPrincipal
from yiwang_platform.outbox import Outbox
from yiwang_platform.pagination import decode_key, encode_key
from yiwang_platform.pii import PiiCipher


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
    *,
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


async def submit_once(
    session: AsyncSession,
    outbox: Outbox,
    *,
    idempotency: Idempotency,
    cipher: PiiCipher,
    applicant: InternalPrincipal,
    data: ReviewCreate,
    now: datetime,
    handling_days: int,
) -> tuple[Review, int]:
    """Submit the applicant's review, or answer the review the first request with the same
    ``Idempotency-Key`` made; with the status to answer."""
    # The applicant is recognised by blind index, which also scopes idempotency keys.
    reviewer = cipher.blind_index(applicant.subject)
    try:
        prior = await idempotency.replay(
            session, reviewer, payload=data.model_dump(), cipher=cipher
        )
        if prior is not None:
            return await session.get_one(Review, prior.resource_id), prior.status
        review = await submit(
            session,
            outbox,
            data=data,
            reviewer_index=reviewer,
            now=now,
            handling_days=handling_days,
        )
        await idempotency.remember(session, 201, resource_id=review.id)
    except IntegrityError as exc:
        # A concurrent review of the same case and channel (or retry with the same key) won.
        raise review_exists() from exc
    return review, 201


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
    session: AsyncSession, cursor: str | None, *, grade: Grade | None, limit: int
) -> tuple[list[Review], str | None]:
    """Reviews newest first, after the page ``cursor`` ends; and the next page's cursor
    when this one is full."""
    after = decode_key(cursor, datetime, str)
    query = select(Review).order_by(Review.submitted_at.desc(), Review.id.desc()).limit(limit)
    if grade is not None:
        query = query.where(Review.grade == grade)
    if after is not None:
        query = query.where(
            paging.after(Review.submitted_at, Review.id, key=after, descending=True)
        )
    rows = list((await session.scalars(query)).all())
    next_cursor = encode_key(rows[-1].submitted_at, rows[-1].id) if len(rows) == limit else None
    return rows, next_cursor


async def list_handlings(
    session: AsyncSession,
    cursor: str | None,
    *,
    viewer: InternalPrincipal,
    status: HandlingStatus | None,
    department: str | None,
    limit: int,
) -> tuple[list[ReviewHandling], str | None]:
    """The handling items ``viewer`` may see (of ``department`` when given), most urgent
    first, after the page ``cursor`` ends; and the next page's cursor when this one is full."""
    department = handlings_department(viewer, department)
    after = decode_key(cursor, date, str)
    query = select(ReviewHandling).order_by(ReviewHandling.due_date, ReviewHandling.id).limit(limit)
    if status is not None:
        query = query.where(ReviewHandling.status == status)
    if department is not None:
        query = query.where(ReviewHandling.department == department)
    if after is not None:
        query = query.where(paging.after(ReviewHandling.due_date, ReviewHandling.id, key=after))
    rows = list((await session.scalars(query)).all())
    next_cursor = encode_key(rows[-1].due_date, rows[-1].id) if len(rows) == limit else None
    return rows, next_cursor


async def resolve(
    session: AsyncSession,
    handling_id: str,
    *,
    note: str,
    resolver: InternalPrincipal,
    now: datetime,
) -> ReviewHandling:
    """Close a handling item: the case's department or a supervisor may."""
    department = resolver_department(resolver)
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
    handling.resolved_by = resolver.subject
    handling.resolved_at = now
    await session.flush()
    return handling


def handling_read(handling: ReviewHandling, *, today: date, threshold: int) -> ReviewHandlingRead:
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
        level=deadlines.level(handling.due_date, today, threshold=threshold) if is_open else "none",
        resolution_note=handling.resolution_note,
        resolved_by=handling.resolved_by,
        resolved_at=handling.resolved_at,
    )
