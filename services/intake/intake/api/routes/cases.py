"""/api/v1/intake/cases: the window's work on cases (一窗受理) — the queue, acceptance
(受理 / 容缺受理 / 告知承诺), refusal, 补正 — and the binding the gateway asks for."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from intake import window
from intake.api.deps import (
    CallerTokenDep,
    LicensePeerDep,
    SettingsDep,
    WindowDeskDep,
    WindowStaffDep,
)
from intake.schemas import (
    Acceptance,
    CaseBinding,
    CaseRead,
    PresenceCreate,
    Refusal,
    Supplement,
    SupplementRequest,
    case_binding_read,
    case_read,
)
from yiwang_platform.deps import CipherDep, NowDep, OutboxDep, PrincipalDep, SessionDep
from yiwang_platform.pagination import Page

router = APIRouter(prefix="/api/v1/intake/cases", tags=["cases"])


@router.get(
    "/{case_id}/binding",
    response_model=CaseBinding,
    summary="Who a case binds: its applicant (blind index) and assignee (gateway only)",
)
async def case_binding(case_id: str, session: SessionDep, principal: PrincipalDep) -> CaseBinding:
    return case_binding_read(await window.binding(session, case_id=case_id, caller=principal))


@router.get("", response_model=Page[CaseRead], summary="The window queue: cases by status")
async def list_cases(
    session: SessionDep,
    clerk: WindowStaffDep,
    cipher: CipherDep,
    status: str = "submitted",
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[CaseRead]:
    cases, next_cursor = await window.queue(
        session, clerk=clerk.subject, status=status, cursor=cursor, limit=limit
    )
    return Page[CaseRead](items=[case_read(c, cipher) for c in cases], next_cursor=next_cursor)


@router.get("/{case_id}", response_model=CaseRead, summary="One case, for the window handling it")
async def get_case(
    case_id: str, session: SessionDep, clerk: WindowStaffDep, cipher: CipherDep
) -> CaseRead:
    found = await window.one(session, case_id=case_id, clerk=clerk.subject)
    return case_read(found.case, cipher, subcases=found.subcases)


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
    case_id: str, body: PresenceCreate, desk: WindowDeskDep, settings: SettingsDep
) -> CaseRead:
    return await desk.take(
        window.record_presence,
        case_id=case_id,
        evidence=body,
        cipher=desk.cipher,
        max_age_minutes=settings.presence_max_age_minutes,
    )


@router.post("/{case_id}/acceptance", response_model=CaseRead, summary="受理: accept the case")
async def accept_case(
    case_id: str, body: Acceptance, desk: WindowDeskDep, settings: SettingsDep
) -> CaseRead:
    return await desk.take(
        window.accept,
        outbox=desk.outbox,
        case_id=case_id,
        mode=body.mode,
        supplement_days=settings.supplement_days,
    )


@router.post(
    "/{case_id}/refusal", response_model=CaseRead, summary="不予受理: refuse with a reason"
)
async def refuse_case(case_id: str, body: Refusal, desk: WindowDeskDep) -> CaseRead:
    return await desk.take(window.refuse, outbox=desk.outbox, case_id=case_id, reason=body.reason)


@router.post(
    "/{case_id}/supplement-requests",
    response_model=CaseRead,
    summary="补正: ask for materials; the deadline clock stops",
)
async def request_supplement(
    case_id: str, body: SupplementRequest, desk: WindowDeskDep
) -> CaseRead:
    return await desk.take(
        window.request_supplement,
        outbox=desk.outbox,
        case_id=case_id,
        materials=body.materials,
        reason=body.reason,
    )


@router.post(
    "/{case_id}/supplements",
    response_model=CaseRead,
    summary="Supply materials (补正 or 容缺): by the applicant or the window handling the case",
)
async def supply_materials(
    case_id: str,
    body: Supplement,
    session: SessionDep,
    outbox: OutboxDep,
    principal: PrincipalDep,
    cipher: CipherDep,
    licenses: LicensePeerDep,
    token: CallerTokenDep,
    now: NowDep,
) -> CaseRead:
    async with session.begin():
        found = await window.supply(
            session,
            outbox,
            case_id=case_id,
            caller=principal,
            attachments=body.materials,
            cipher=cipher,
            licenses=licenses,
            token=token,
            now=now,
        )
        return case_read(found.case, cipher, subcases=found.subcases)
