"""/api/v1/supervision/reviews: good/bad reviews (好差评) of cases."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Query
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError

from supervision import reviews
from supervision.api.dependencies import CipherDep, OverseerDep
from supervision.models import Review, idempotency
from supervision.schemas import Grade, ReviewCreate, ReviewRead
from yiwang_platform.errors import ProblemError
from yiwang_platform.idempotency import remember, replay, request_hash
from yiwang_platform.pagination import Page, decode_cursor, encode_cursor
from yiwang_platform.service import PrincipalDep, RuntimeDep, SessionDep

router = APIRouter(prefix="/api/v1/supervision/reviews", tags=["reviews"])


def _cursor_of(review: Review) -> str:
    return encode_cursor(f"{review.submitted_at.isoformat()}|{review.id}")


def _invalid_cursor() -> ProblemError:
    return ProblemError(400, "invalid_cursor", "分页游标无效", title_en="Invalid cursor")


def _parse_cursor(cursor: str | None) -> tuple[datetime, str] | None:
    value = decode_cursor(cursor)
    if value is None:
        return None
    at, _, review_id = value.partition("|")
    try:
        submitted_at = datetime.fromisoformat(at)
    except ValueError as exc:
        raise _invalid_cursor() from exc
    if submitted_at.tzinfo is None or not review_id:
        raise _invalid_cursor()
    return submitted_at, review_id


@router.post("", status_code=201, response_model=ReviewRead, summary="Review a case (好差评)")
async def submit_review(
    body: ReviewCreate,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: PrincipalDep,
    cipher: CipherDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> JSONResponse:
    # Reviewers are citizens: scope their idempotency keys by blind index, never in clear.
    reviewer = cipher.blind_index(principal.subject)
    digest = request_hash(body.model_dump())
    try:
        async with session.begin():
            stored = await replay(session, idempotency, reviewer, idempotency_key, digest)
            if stored is not None:
                return JSONResponse(stored[1], status_code=stored[0])
            review = await reviews.submit(session, runtime.outbox, body)
            result = ReviewRead.model_validate(review).model_dump(mode="json")
            await remember(session, idempotency, reviewer, idempotency_key, digest, 201, result)
    except IntegrityError as exc:
        # A concurrent review of the same case (or retry with the same key) won the race.
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
    rows = await reviews.list_reviews(session, grade, _parse_cursor(cursor), limit)
    next_cursor = _cursor_of(rows[-1]) if len(rows) == limit else None
    return Page[ReviewRead](
        items=[ReviewRead.model_validate(r) for r in rows], next_cursor=next_cursor
    )
