"""/api/v1/intake/applications: submit applications and follow one's own cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from intake import applications, case_access, guide, prereview, presence, workflow
from intake.api.dependencies import CipherDep
from intake.models import Case
from intake.peers import PeersDep
from intake.schemas import ApplicationCreate, CaseAccessRead, CaseRead, PreReview, Problem
from intake.settings import Settings
from yiwang_platform.deps import PrincipalDep, RuntimeDep, SessionDep
from yiwang_platform.errors import ProblemError
from yiwang_platform.idempotency import IdempotencyDep, Replay
from yiwang_platform.identifiers import is_resident_id
from yiwang_platform.pagination import Page, decode_key, encode_key
from yiwang_platform.peers import PeerClient, bearer_token
from yiwang_platform.pii import PiiCipher

router = APIRouter(prefix="/api/v1/intake/applications", tags=["applications"])


def _cursor_of(case: Case) -> str:
    return encode_key(case.submitted_at, case.id)


PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}


def _case_not_found() -> ProblemError:
    return ProblemError(404, "case_not_found", "办件不存在", title_en="Case not found")


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


async def _replayed(session: AsyncSession, cipher: PiiCipher, prior: Replay) -> JSONResponse:
    """The first answer again, rebuilt from the case (as it stands now)."""
    case = await session.get_one(Case, prior.resource_id)
    return JSONResponse(
        applications.to_read(case, cipher).model_dump(mode="json"), status_code=prior.status
    )


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
    idempotency: IdempotencyDep,
) -> JSONResponse:
    applicant, assigned_to = applications.applicant_of(principal, body)
    # Idempotency keys are scoped by the blind index, so no identifier is stored in clear.
    applicant_index = cipher.blind_index(principal.subject)
    payload = body.model_dump()
    async with session.begin():
        prior = await idempotency.replay(session, applicant_index, payload, cipher=cipher)
        if prior is not None:
            return await _replayed(session, cipher, prior)
    window_presence: dict[str, Any] | None = None
    if assigned_to is not None and body.presence is not None:
        settings = runtime.settings
        assert isinstance(settings, Settings)
        window_presence = presence.at_window(
            cipher.blind_index(applicant),
            body.presence,
            cipher=cipher,
            clerk=principal.subject,
            max_age=timedelta(minutes=settings.presence_max_age_minutes),
            now=datetime.now(UTC),
        )
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
            prior = await idempotency.replay(session, applicant_index, payload, cipher=cipher)
            if prior is not None:
                return await _replayed(session, cipher, prior)
            case = await applications.submit(
                session,
                runtime.outbox,
                cipher,
                applicant,
                body,
                resolved,
                result,
                assigned_to,
                window_presence=window_presence,
            )
            await idempotency.remember(session, 201, resource_id=case.id)
            result_json = applications.to_read(case, cipher).model_dump(mode="json")
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
        raise _case_not_found()
    return applications.to_read(case, cipher, await workflow.subcases_of(session, case.id))


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
    case_id: str, session: SessionDep, principal: PrincipalDep, cipher: CipherDep
) -> CaseRead:
    async with session.begin():
        case = await session.get(Case, case_id, with_for_update=True)
        if case is None:
            raise _case_not_found()
        presence.confirm_in_app(case, cipher.blind_index(principal.subject), now=datetime.now(UTC))
        return applications.to_read(case, cipher, await workflow.subcases_of(session, case.id))


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
    case = await applications.get_for_applicant(
        session, cipher.blind_index(principal.subject), case_id
    )
    if case is None:
        raise _case_not_found()
    key = decode_key(cursor, int)
    rows = await case_access.entries(session, case.id, after=key[0] if key else None, limit=limit)
    return Page[CaseAccessRead](
        items=[case_access.to_read(r) for r in rows],
        next_cursor=encode_key(rows[-1].id) if len(rows) == limit else None,
    )
