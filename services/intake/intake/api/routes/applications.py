"""/api/v1/intake/applications: submit applications and follow one's own cases."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from intake import applications
from intake.api.deps import ChecksDep, SettingsDep
from intake.schemas import (
    ApplicationCreate,
    CaseAccessRead,
    CaseRead,
    PreReview,
    case_access_read,
    case_read,
)
from yiwang_platform.deps import CipherDep, NowDep, OutboxDep, PrincipalDep, SessionDep
from yiwang_platform.idempotency import IdempotencyDep
from yiwang_platform.pagination import Page

router = APIRouter(prefix="/api/v1/intake/applications", tags=["applications"])

PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}


@router.post(
    "/pre-reviews",
    response_model=PreReview,
    summary="智能预审: check an application without submitting it; every problem at once",
)
async def pre_review_application(
    body: ApplicationCreate, session: SessionDep, principal: PrincipalDep, checks: ChecksDep
) -> PreReview:
    async with session.begin():
        return await applications.pre_review(session, caller=principal, data=body, checks=checks)


@router.post(
    "",
    status_code=201,
    response_model=CaseRead,
    summary="Submit an application; the caller is the applicant",
    responses={422: {"description": "pre-review found problems: all listed in `problems`"}},
)
async def submit_application(
    body: ApplicationCreate,
    session: SessionDep,
    outbox: OutboxDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    checks: ChecksDep,
    idempotency: IdempotencyDep,
    now: NowDep,
) -> JSONResponse:
    # The submission runs its own transactions: the peers are asked between them.
    submitted = await applications.submit(
        session,
        outbox,
        caller=principal,
        data=body,
        idempotency=idempotency,
        checks=checks,
        presence_max_age_minutes=settings.presence_max_age_minutes,
        now=now,
    )
    read = case_read(submitted.case, checks.cipher)
    return JSONResponse(read.model_dump(mode="json"), status_code=submitted.status)


@router.get("", response_model=Page[CaseRead], summary="The caller's own cases, newest first")
async def list_applications(
    session: SessionDep,
    principal: PrincipalDep,
    cipher: CipherDep,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[CaseRead]:
    cases, next_cursor = await applications.list_for_applicant(
        session, applicant_index=cipher.blind_index(principal.subject), cursor=cursor, limit=limit
    )
    return Page[CaseRead](items=[case_read(c, cipher) for c in cases], next_cursor=next_cursor)


@router.get("/{case_id}", response_model=CaseRead, summary="One of the caller's own cases")
async def get_application(
    case_id: str, session: SessionDep, principal: PrincipalDep, cipher: CipherDep
) -> CaseRead:
    found = await applications.get_for_applicant(
        session, applicant_index=cipher.blind_index(principal.subject), case_id=case_id
    )
    return case_read(found.case, cipher, subcases=found.subcases)


@router.post(
    "/{case_id}/presence-confirmation",
    response_model=CaseRead,
    summary="The applicant confirms, in their own app, a case a window clerk opened for them",
    responses={
        403: {"description": "the caller is not the case's applicant", **PROBLEM},
        404: {"description": "no such case", **PROBLEM},
    },
)
async def confirm_presence(
    case_id: str, session: SessionDep, principal: PrincipalDep, cipher: CipherDep, now: NowDep
) -> CaseRead:
    async with session.begin():
        found = await applications.confirm_presence(
            session,
            case_id=case_id,
            applicant_index=cipher.blind_index(principal.subject),
            now=now,
        )
        return case_read(found.case, cipher, subcases=found.subcases)


@router.get(
    "/{case_id}/access-log",
    response_model=Page[CaseAccessRead],
    summary="Who looked at my case's form and materials (the applicant), newest first",
    responses={404: {"description": "not one of the caller's cases", **PROBLEM}},
)
async def case_access_log(
    case_id: str,
    session: SessionDep,
    principal: PrincipalDep,
    cipher: CipherDep,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[CaseAccessRead]:
    rows, next_cursor = await applications.access_log(
        session,
        applicant_index=cipher.blind_index(principal.subject),
        case_id=case_id,
        cursor=cursor,
        limit=limit,
    )
    return Page[CaseAccessRead](items=[case_access_read(r) for r in rows], next_cursor=next_cursor)
