"""/api/v1/supervision/reviews: good/bad reviews (好差评) of completed cases."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError

from supervision import reviews
from supervision.api.dependencies import CipherDep, NowDep, OverseerDep, SettingsDep
from supervision.models import Review
from supervision.schemas import Grade, ReviewCreate, ReviewRead
from yiwang_platform.deps import PrincipalDep, RuntimeDep, SessionDep
from yiwang_platform.idempotency import IdempotencyDep
from yiwang_platform.pagination import Page, decode_key, encode_key

router = APIRouter(prefix="/api/v1/supervision/reviews", tags=["reviews"])


@router.post(
    "",
    status_code=201,
    response_model=ReviewRead,
    summary="The applicant reviews a completed case (好差评), once per channel",
)
async def submit_review(
    body: ReviewCreate,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: PrincipalDep,
    cipher: CipherDep,
    settings: SettingsDep,
    now: NowDep,
    idempotency: IdempotencyDep,
) -> JSONResponse:
    # The applicant is recognised by blind index, which also scopes idempotency keys.
    reviewer = cipher.blind_index(principal.subject)
    try:
        async with session.begin():
            prior = await idempotency.replay(session, reviewer, body.model_dump(), cipher=cipher)
            if prior is not None:
                review = await session.get_one(Review, prior.resource_id)
                return JSONResponse(
                    reviews.review_read(review).model_dump(mode="json"), status_code=prior.status
                )
            review = await reviews.submit(
                session,
                runtime.outbox,
                body,
                reviewer,
                now,
                settings.review_handling_working_days,
            )
            await idempotency.remember(session, 201, resource_id=review.id)
            result = reviews.review_read(review).model_dump(mode="json")
    except IntegrityError as exc:
        # A concurrent review of the same case and channel (or retry with the same key) won.
        raise reviews.review_exists() from exc
    return JSONResponse(result, status_code=201)


@router.get("", response_model=Page[ReviewRead], summary="Reviews, newest first")
async def list_reviews(
    session: SessionDep,
    _overseer: OverseerDep,
    grade: Grade | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[ReviewRead]:
    rows = await reviews.list_reviews(session, grade, decode_key(cursor, datetime, str), limit)
    next_cursor = encode_key(rows[-1].submitted_at, rows[-1].id) if len(rows) == limit else None
    return Page[ReviewRead](items=[reviews.review_read(r) for r in rows], next_cursor=next_cursor)
