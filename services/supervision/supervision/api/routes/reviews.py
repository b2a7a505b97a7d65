"""/api/v1/supervision/reviews: good/bad reviews (好差评) of completed cases."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from supervision import reviews
from supervision.api.deps import (
    CipherDep,
    IdempotencyDep,
    NowDep,
    OutboxDep,
    OverseerDep,
    PrincipalDep,
    SessionDep,
    SettingsDep,
)
from supervision.schemas import Grade, ReviewCreate, ReviewRead
from yiwang_platform.pagination import Page

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
    outbox: OutboxDep,
    principal: PrincipalDep,
    cipher: CipherDep,
    settings: SettingsDep,
    now: NowDep,
    idempotency: IdempotencyDep,
) -> JSONResponse:
    async with session.begin():
        review, status = await reviews.submit_once(
            session,
            outbox,
            idempotency=idempotency,
            cipher=cipher,
            applicant=principal,
            data=body,
            now=now,
            handling_days=settings.review_handling_working_days,
        )
        result = reviews.review_read(review).model_dump(mode="json")
    # A replay answers with the first answer's status.
    return JSONResponse(result, status_code=status)


@router.get("", response_model=Page[ReviewRead], summary="Reviews, newest first")
async def list_reviews(
    session: SessionDep,
    _overseer: OverseerDep,
    grade: Grade | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[ReviewRead]:
    rows, next_cursor = await reviews.list_reviews(session, cursor, grade=grade, limit=limit)
    return Page[ReviewRead](items=[reviews.review_read(r) for r in rows], next_cursor=next_cursor)
