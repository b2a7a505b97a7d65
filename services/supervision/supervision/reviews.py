"""Reviews (好差评): one per watched case, announced in the same transaction."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from supervision.events import ReviewSubmitted
from supervision.models import CaseWatch, Review
from supervision.schemas import Grade, ReviewCreate
from yiwang_platform.errors import ProblemError
from yiwang_platform.outbox import Outbox


def grade_of(rating: int) -> Grade:
    return "bad" if rating <= 2 else "good"


def review_exists() -> ProblemError:
    return ProblemError(409, "review_exists", "该办件已评价", title_en="Case already reviewed")


async def submit(session: AsyncSession, outbox: Outbox, data: ReviewCreate) -> Review:
    if await session.get(CaseWatch, data.case_id) is None:
        raise ProblemError(
            422,
            "case_unknown",
            "办件不存在",
            detail=f"no submitted case {data.case_id}",
            title_en="Case unknown",
        )
    if await session.scalar(select(Review.id).where(Review.case_id == data.case_id)) is not None:
        raise review_exists()
    grade = grade_of(data.rating)
    review = Review(
        id=str(uuid.uuid4()),
        case_id=data.case_id,
        rating=data.rating,
        grade=grade,
        comment=data.comment,
        channel=data.channel,
        submitted_at=datetime.now(UTC),
    )
    session.add(review)
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
