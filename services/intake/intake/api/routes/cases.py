"""/api/v1/intake/cases: the window's work on cases (一窗受理) — the queue, acceptance
(受理 / 容缺受理 / 告知承诺), refusal, 补正 — and the binding the gateway asks for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import select

from intake import applications, presence, workflow
from intake.api.dependencies import CipherDep
from intake.api.staff import require_window_staff
from intake.models import Case
from intake.peers import PeersDep
from intake.schemas import (
    Acceptance,
    CaseRead,
    PresenceCreate,
    Refusal,
    Supplement,
    SupplementRequest,
)
from intake.settings import Settings
from yiwang_platform.deps import PrincipalDep, RuntimeDep, SessionDep
from yiwang_platform.errors import ProblemError
from yiwang_platform.pagination import Page, decode_id, encode_key
from yiwang_platform.peers import bearer_token

router = APIRouter(prefix="/api/v1/intake/cases", tags=["cases"])


class CaseBinding(BaseModel):
    applicant_index: str = Field(description="blind index of the applicant's identifier")
    assigned_to: str | None = Field(description="the staff member the case is assigned to")
    presence: str | None = Field(
        description="how the applicant was shown present (applicant, id_card, face, "
        "app_confirmation); none: nobody may read the applicant's data for this case yet"
    )


def _not_found() -> ProblemError:
    return ProblemError(404, "case_not_found", "办件不存在", title_en="Case not found")


async def _case_for_update(session: SessionDep, case_id: str) -> Case:
    case = await session.get(Case, case_id, with_for_update=True)
    if case is None:
        raise _not_found()
    return case


def _may_handle(principal: PrincipalDep, case: Case) -> None:
    """A case taken at a window belongs to that clerk; an online one to any window."""
    if case.assigned_to is not None and case.assigned_to != principal.subject:
        raise _not_found()


@router.get(
    "/{case_id}/binding",
    response_model=CaseBinding,
    summary="Who a case binds: its applicant (blind index) and assignee (gateway only)",
)
async def case_binding(case_id: str, session: SessionDep, principal: PrincipalDep) -> CaseBinding:
    # Only the gateway asks, with a token it mints for itself; callers routed through
    # the gateway carry their own principal type and are refused.
    if principal.principal_type != "gateway":
        raise ProblemError(403, "forbidden", "无权访问", "for the gateway only")
    case = await applications.binding_of(session, case_id)
    if case is None:
        raise _not_found()
    return CaseBinding(
        applicant_index=case.applicant_index,
        assigned_to=case.assigned_to,
        presence=(case.presence or {}).get("method"),
    )


@router.get("", response_model=Page[CaseRead], summary="The window queue: cases by status")
async def list_cases(
    session: SessionDep,
    principal: PrincipalDep,
    cipher: CipherDep,
    status: str = "submitted",
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[CaseRead]:
    require_window_staff(principal)
    query = select(Case).where(Case.status == status).order_by(Case.id).limit(limit)
    after = decode_id(cursor)
    if after is not None:
        query = query.where(Case.id > after)
    # A clerk sees the cases at their own window and the unassigned online ones.
    query = query.where((Case.assigned_to.is_(None)) | (Case.assigned_to == principal.subject))
    cases = list((await session.scalars(query)).all())
    return Page[CaseRead](
        items=[applications.to_read(c, cipher) for c in cases],
        next_cursor=encode_key(cases[-1].id) if len(cases) == limit else None,
    )


@router.get("/{case_id}", response_model=CaseRead, summary="One case, for the window handling it")
async def get_case(
    case_id: str, session: SessionDep, principal: PrincipalDep, cipher: CipherDep
) -> CaseRead:
    require_window_staff(principal)
    case = await session.get(Case, case_id)
    if case is None:
        raise _not_found()
    _may_handle(principal, case)
    return applications.to_read(case, cipher, await workflow.subcases_of(session, case.id))


@router.post(
    "/{case_id}/presence",
    response_model=CaseRead,
    summary="Record the applicant at the window (ID-card read or face check) before any "
    "read of their data",
    responses={
        404: {"description": "no such case at the caller's window"},
        422: {
            "description": "the evidence names someone else (presence_mismatch) or is "
            "too old (presence_stale)"
        },
    },
)
async def record_presence(
    case_id: str,
    body: PresenceCreate,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: PrincipalDep,
    cipher: CipherDep,
) -> CaseRead:
    require_window_staff(principal)
    settings = runtime.settings
    assert isinstance(settings, Settings)
    async with session.begin():
        case = await _case_for_update(session, case_id)
        _may_handle(principal, case)
        presence.record_at_window(
            case,
            body,
            cipher=cipher,
            clerk=principal.subject,
            max_age=timedelta(minutes=settings.presence_max_age_minutes),
            now=datetime.now(UTC),
        )
        return applications.to_read(case, cipher, await workflow.subcases_of(session, case.id))


@router.post("/{case_id}/acceptance", response_model=CaseRead, summary="受理: accept the case")
async def accept_case(
    case_id: str,
    body: Acceptance,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: PrincipalDep,
    cipher: CipherDep,
) -> CaseRead:
    require_window_staff(principal)
    settings = runtime.settings
    assert isinstance(settings, Settings)
    async with session.begin():
        case = await _case_for_update(session, case_id)
        _may_handle(principal, case)
        subcases = await workflow.accept(
            session, runtime.outbox, case, principal.subject, body.mode, settings.supplement_days
        )
        return applications.to_read(case, cipher, subcases)


@router.post(
    "/{case_id}/refusal", response_model=CaseRead, summary="不予受理: refuse with a reason"
)
async def refuse_case(
    case_id: str,
    body: Refusal,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: PrincipalDep,
    cipher: CipherDep,
) -> CaseRead:
    require_window_staff(principal)
    async with session.begin():
        case = await _case_for_update(session, case_id)
        _may_handle(principal, case)
        await workflow.refuse(session, runtime.outbox, case, body.reason)
        return applications.to_read(case, cipher)


@router.post(
    "/{case_id}/supplement-requests",
    response_model=CaseRead,
    summary="补正: ask for materials; the deadline clock stops",
)
async def request_supplement(
    case_id: str,
    body: SupplementRequest,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: PrincipalDep,
    cipher: CipherDep,
) -> CaseRead:
    require_window_staff(principal)
    async with session.begin():
        case = await _case_for_update(session, case_id)
        _may_handle(principal, case)
        await workflow.request_supplement(
            session, runtime.outbox, case, body.materials, body.reason
        )
        return applications.to_read(case, cipher, await workflow.subcases_of(session, case.id))


@router.post(
    "/{case_id}/supplements",
    response_model=CaseRead,
    summary="Supply materials (补正 or 容缺): by the applicant or the window handling the case",
)
async def supply_materials(
    case_id: str,
    body: Supplement,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: PrincipalDep,
    cipher: CipherDep,
    peers: PeersDep,
    request: Request,
) -> CaseRead:
    token = bearer_token(request.headers.get("authorization", ""))
    async with session.begin():
        case = await _case_for_update(session, case_id)
        is_applicant = case.applicant_index == cipher.blind_index(principal.subject)
        if not is_applicant:
            require_window_staff(principal)
            _may_handle(principal, case)
        # Uploads by the applicant or by this clerk; wallet licenses only from the holder.
        owners = {case.applicant_index, cipher.blind_index(principal.subject)}
        supplied = await applications.attachments_of(
            session, peers["license"], token, owners, case, body.materials, is_applicant
        )
        await workflow.supply(session, runtime.outbox, case, supplied)
        return applications.to_read(case, cipher, await workflow.subcases_of(session, case.id))
