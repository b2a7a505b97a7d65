"""The window's work on a case, by its id (一窗受理): the queue, one case, the applicant's
presence, acceptance (受理 / 容缺受理 / 告知承诺), refusal, 补正 and supplied materials —
and the binding the gateway asks for. Each change loads and locks the case, checks the
clerk may handle it, then takes its step of the ``workflow``."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from intake import prereview, presence, workflow
from intake.models import Case
from intake.schemas import MaterialAttachment, PresenceCreate
from intake.workflow import CaseWithSubcases, case_not_found
from yiwang_platform.deps import ensure_principal, forbidden
from yiwang_platform.errors import ProblemError
from yiwang_platform.internal_token import InternalPrincipal
from yiwang_platform.outbox import Outbox
from yiwang_platform.pagination import decode_id, encode_key
from yiwang_platform.peers import PeerClient
from yiwang_platform.pii import PiiCipher

WINDOW_STAFF_ONLY = "for window staff only"


async def binding(session: AsyncSession, *, case_id: str, caller: InternalPrincipal) -> Case:
    """Who a case binds, for the gateway only."""
    # The gateway asks with a token it mints for itself; callers routed through the
    # gateway carry their own principal type and are refused.
    if caller.principal_type != "gateway":
        raise forbidden("for the gateway only")
    case = await session.get(Case, case_id)
    if case is None:
        raise case_not_found()
    return case


async def queue(
    session: AsyncSession, *, clerk: str, status: str, cursor: str | None, limit: int
) -> tuple[list[Case], str | None]:
    """The clerk's queue by status, and the cursor of the next page."""
    query = select(Case).where(Case.status == status).order_by(Case.id).limit(limit)
    after = decode_id(cursor)
    if after is not None:
        query = query.where(Case.id > after)
    # A clerk sees the cases at their own window and the unassigned online ones.
    query = query.where((Case.assigned_to.is_(None)) | (Case.assigned_to == clerk))
    cases = list((await session.scalars(query)).all())
    return cases, encode_key(cases[-1].id) if len(cases) == limit else None


async def _handled(session: AsyncSession, case_id: str, *, clerk: str, lock: bool) -> Case:
    case = await session.get(Case, case_id, with_for_update=lock)
    if case is None:
        raise case_not_found()
    _may_handle(case, clerk)
    return case


def _may_handle(case: Case, clerk: str) -> None:
    """A case taken at a window belongs to that clerk; an online one to any window."""
    if case.assigned_to is not None and case.assigned_to != clerk:
        raise case_not_found()


async def one(session: AsyncSession, *, case_id: str, clerk: str) -> CaseWithSubcases:
    case = await _handled(session, case_id, clerk=clerk, lock=False)
    return await workflow.with_subcases(session, case)


async def record_presence(
    session: AsyncSession,
    *,
    case_id: str,
    clerk: str,
    evidence: PresenceCreate,
    cipher: PiiCipher,
    max_age_minutes: int,
    now: datetime,
) -> CaseWithSubcases:
    case = await _handled(session, case_id, clerk=clerk, lock=True)
    presence.record_at_window(
        case,
        evidence,
        cipher=cipher,
        clerk=clerk,
        max_age=timedelta(minutes=max_age_minutes),
        now=now,
    )
    return await workflow.with_subcases(session, case)


async def accept(
    session: AsyncSession,
    outbox: Outbox,
    *,
    case_id: str,
    clerk: str,
    mode: str,
    supplement_days: int,
    now: datetime,
) -> CaseWithSubcases:
    case = await _handled(session, case_id, clerk=clerk, lock=True)
    subcases = await workflow.accept(
        session,
        outbox,
        case=case,
        clerk=clerk,
        mode=mode,
        supplement_days=supplement_days,
        now=now,
    )
    return CaseWithSubcases(case, subcases)


async def refuse(
    session: AsyncSession, outbox: Outbox, *, case_id: str, clerk: str, reason: str, now: datetime
) -> CaseWithSubcases:
    case = await _handled(session, case_id, clerk=clerk, lock=True)
    await workflow.refuse(session, outbox, case=case, reason=reason, now=now)
    # Refused before acceptance: it never had sub-cases.
    return CaseWithSubcases(case, [])


async def request_supplement(
    session: AsyncSession,
    outbox: Outbox,
    *,
    case_id: str,
    clerk: str,
    materials: list[str],
    reason: str,
    now: datetime,
) -> CaseWithSubcases:
    case = await _handled(session, case_id, clerk=clerk, lock=True)
    await workflow.request_supplement(
        session, outbox, case=case, materials=materials, reason=reason, now=now
    )
    return await workflow.with_subcases(session, case)


async def supply(
    session: AsyncSession,
    outbox: Outbox,
    *,
    case_id: str,
    caller: InternalPrincipal,
    attachments: list[MaterialAttachment],
    cipher: PiiCipher,
    licenses: PeerClient,
    token: str,
    now: datetime,
) -> CaseWithSubcases:
    """Materials supplied by the applicant or by the window handling the case."""
    case = await session.get(Case, case_id, with_for_update=True)
    if case is None:
        raise case_not_found()
    caller_index = cipher.blind_index(caller.subject)
    is_applicant = case.applicant_index == caller_index
    if not is_applicant:
        ensure_principal(caller, "staff", role="window", detail=WINDOW_STAFF_ONLY)
        _may_handle(case, caller.subject)
    # Uploads by the applicant or by this clerk; wallet licenses only from the holder.
    supplied = await _checked_attachments(
        session,
        case,
        attachments=attachments,
        owners={case.applicant_index, caller_index},
        caller_is_holder=is_applicant,
        licenses=licenses,
        token=token,
    )
    await workflow.supply(session, outbox, case=case, supplied=supplied, now=now)
    return await workflow.with_subcases(session, case)


async def _checked_attachments(
    session: AsyncSession,
    case: Case,
    *,
    attachments: list[MaterialAttachment],
    owners: set[str],
    caller_is_holder: bool,
    licenses: PeerClient,
    token: str,
) -> list[dict[str, Any]]:
    """Supplied materials checked like at submission; any problem refuses them all."""
    wanted = {m["code"]: m for m in case.required_materials}
    kinds, problems = await prereview.check_attachments(
        session,
        licenses,
        token=token,
        owners=owners,
        materials=wanted,
        attachments=attachments,
        licenses_allowed=caller_is_holder,
    )
    supplied = [
        {"code": a.code, "kind": kinds[a.code], "ref": a.upload_id or a.license_id}
        for a in attachments
        if a.code in kinds
    ]
    if problems:
        raise ProblemError(
            422,
            "supplement_refused",
            "补充的材料有误",
            detail=f"{len(problems)} problem(s) found",
            title_en="Supplied materials refused",
            problems=[p.model_dump() for p in problems],
        )
    return supplied
