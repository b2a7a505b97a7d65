"""/api/v1/intake/applications: submit applications and follow one's own cases."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from intake import applications, guide, prereview, workflow
from intake.api.dependencies import CipherDep
from intake.models import Case, idempotency
from intake.peers import PeersDep
from intake.schemas import ApplicationCreate, CaseRead, PreReview, Problem
from yiwang_platform.errors import ProblemError
from yiwang_platform.idempotency import remember, replay, request_hash
from yiwang_platform.identifiers import is_resident_id
from yiwang_platform.pagination import Page, decode_key, encode_key
from yiwang_platform.peers import PeerClient, bearer_token
from yiwang_platform.pii import PiiCipher
from yiwang_platform.service import PrincipalDep, RuntimeDep, SessionDep

router = APIRouter(prefix="/api/v1/intake/applications", tags=["applications"])


def _cursor_of(case: Case) -> str:
    return encode_key(case.submitted_at, case.id)


def _caller_token(request: Request) -> str:
    return bearer_token(request.headers.get("authorization", ""))


async def _checked(
    request: Request,
    session: AsyncSession,
    peers: dict[str, PeerClient],
    cipher: PiiCipher,
    applicant: str,
    body: ApplicationCreate,
) -> tuple[guide.Resolved, PreReview]:
    token = _caller_token(request)
    resolved = await guide.resolve(session, peers["matters"], token, body)
    result = await prereview.review(
        session,
        cipher,
        peers["license"],
        token,
        applicant,
        resolved.checklist,
        body.form,
        body.materials,
        body.commitments,
    )
    if resolved.bundle_code is not None and not is_resident_id(applicant):
        result.problems.append(
            Problem(code="real_name_required", target="applicant", message="一件事须实名认证后申请")
        )
        result.passed = False
    # The checks only read; end their implicit transaction before the write opens one.
    if session.in_transaction():
        await session.commit()
    return resolved, result


@router.post(
    "/pre-reviews",
    response_model=PreReview,
    summary="智能预审: check an application without submitting it; every problem at once",
)
async def pre_review_application(
    body: ApplicationCreate,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    cipher: CipherDep,
    peers: PeersDep,
) -> PreReview:
    applicant, _ = applications.applicant_of(principal, body)
    _, result = await _checked(request, session, peers, cipher, applicant, body)
    return result


@router.post(
    "",
    status_code=201,
    response_model=CaseRead,
    summary="Submit an application; the caller is the applicant",
    responses={422: {"description": "pre-review found problems: all listed in `problems`"}},
)
async def submit_application(
    body: ApplicationCreate,
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: PrincipalDep,
    cipher: CipherDep,
    peers: PeersDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> JSONResponse:
    applicant, assigned_to = applications.applicant_of(principal, body)
    # Idempotency keys are scoped by the blind index, so no identifier is stored in clear.
    applicant_index = cipher.blind_index(principal.subject)
    digest = request_hash(body.model_dump())
    async with session.begin():
        stored = await replay(session, idempotency, applicant_index, idempotency_key, digest)
    if stored is not None:
        return JSONResponse(stored[1], status_code=stored[0])
    # Peers are asked before the transaction opens, so no database lock waits on them.
    resolved, result = await _checked(request, session, peers, cipher, applicant, body)
    if not result.passed:
        raise ProblemError(
            422,
            "pre_review_failed",
            "预审未通过，请按清单一次性补齐",
            detail=f"{len(result.problems)} problem(s) found",
            title_en="Pre-review found problems",
            problems=[p.model_dump() for p in result.problems],
            missing_non_key=result.missing_non_key,
        )
    try:
        async with session.begin():
            stored = await replay(session, idempotency, applicant_index, idempotency_key, digest)
            if stored is not None:
                return JSONResponse(stored[1], status_code=stored[0])
            case = await applications.submit(
                session, runtime.outbox, cipher, applicant, body, resolved, result, assigned_to
            )
            result_json = applications.to_read(case, cipher).model_dump(mode="json")
            await remember(
                session, idempotency, applicant_index, idempotency_key, digest, 201, result_json
            )
    except IntegrityError as exc:
        # Only a concurrent request with the same Idempotency-Key can collide here.
        raise ProblemError(
            409, "conflict", "资源冲突", "a request with this Idempotency-Key is in progress"
        ) from exc
    return JSONResponse(result_json, status_code=201)


@router.get("", response_model=Page[CaseRead], summary="The caller's own cases, newest first")
async def list_applications(
    session: SessionDep,
    principal: PrincipalDep,
    cipher: CipherDep,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[CaseRead]:
    cases = await applications.list_for_applicant(
        session, cipher.blind_index(principal.subject), decode_key(cursor, datetime, str), limit
    )
    next_cursor = _cursor_of(cases[-1]) if len(cases) == limit else None
    return Page[CaseRead](
        items=[applications.to_read(c, cipher) for c in cases], next_cursor=next_cursor
    )


@router.get("/{case_id}", response_model=CaseRead, summary="One of the caller's own cases")
async def get_application(
    case_id: str, session: SessionDep, principal: PrincipalDep, cipher: CipherDep
) -> CaseRead:
    case = await applications.get_for_applicant(
        session, cipher.blind_index(principal.subject), case_id
    )
    if case is None:
        raise ProblemError(404, "case_not_found", "办件不存在", title_en="Case not found")
    return applications.to_read(case, cipher, await workflow.subcases_of(session, case.id))
