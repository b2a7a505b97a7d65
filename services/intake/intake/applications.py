"""Submitting applications: each opens a case pinned to the current matter version,
with its deadline in working days, and announces it in the same transaction."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from intake import deadlines, prereview, presence
from intake.events import CaseSubmitted
from intake.guide import Resolved
from intake.models import Case, SubCase
from intake.schemas import (
    ApplicationCreate,
    CaseRead,
    MaterialAttachment,
    PreReview,
    SubCaseRead,
)
from yiwang_platform.errors import ProblemError
from yiwang_platform.identifiers import InvalidIdentifier, resident_id
from yiwang_platform.internal_token import InternalPrincipal
from yiwang_platform.outbox import Outbox
from yiwang_platform.peers import PeerClient
from yiwang_platform.pii import PiiCipher


async def submit(
    session: AsyncSession,
    outbox: Outbox,
    cipher: PiiCipher,
    applicant: str,
    data: ApplicationCreate,
    resolved: Resolved,
    pre_review: PreReview,
    assigned_to: str | None = None,
    *,
    window_presence: dict[str, Any] | None = None,
) -> Case:
    """Open a case for ``applicant`` and add its event to the caller's transaction.

    ``assigned_to``: the window staff member who took the application; only they may
    read the applicant's data for this case, and only once the applicant's presence
    (``window_presence``, checked by ``presence.at_window``) is recorded.
    """
    submitted_at = datetime.now(UTC)
    supplied = {m.code: ("upload" if m.upload_id else "license") for m in data.materials}
    materials = [
        {"code": m.code, "kind": supplied[m.code], "ref": m.upload_id or m.license_id}
        for m in data.materials
    ] + [{"code": c, "kind": "commitment", "ref": None} for c in data.commitments]
    case = Case(
        id=str(uuid.uuid4()),
        matter_code=resolved.code,
        matter_version=resolved.version,
        matter_name=resolved.name,
        department=resolved.department,
        promised_days=resolved.promised_days,
        channel=data.channel,
        status="submitted",
        applicant_encrypted=cipher.encrypt(applicant),
        applicant_index=cipher.blind_index(applicant),
        form_encrypted=cipher.encrypt(json.dumps(data.form, ensure_ascii=False)),
        submitted_at=submitted_at,
        due_date=deadlines.due_date(submitted_at, resolved.promised_days),
        assigned_to=assigned_to,
        presence=window_presence if assigned_to else presence.of_applicant(submitted_at),
        bundle_code=resolved.bundle_code,
        bundle_version=resolved.version if resolved.bundle_code else None,
        applicant_kind="citizen",
        materials=materials,
        plan=resolved.plan,
        required_materials=[m.model_dump() for m in pre_review.materials],
        missing_materials=pre_review.missing_non_key,
        requested_materials=[],
        suspended_working_days=0,
    )
    session.add(case)
    await session.flush()
    await outbox.add(
        session,
        CaseSubmitted(
            case_id=case.id,
            matter_code=case.matter_code,
            matter_version=case.matter_version,
            matter_name=case.matter_name,
            department=case.department,
            promised_days=case.promised_days,
            channel=data.channel,
            submitted_at=case.submitted_at,
            bundle_code=case.bundle_code,
            applicant_index=case.applicant_index,
            due_date=case.due_date,
        ),
        key=case.id,
    )
    return case


def to_read(case: Case, cipher: PiiCipher, subcases: list[SubCase] | None = None) -> CaseRead:
    return CaseRead(
        case_id=case.id,
        matter_code=case.matter_code,
        matter_version=case.matter_version,
        matter_name=case.matter_name,
        department=case.department,
        promised_days=case.promised_days,
        channel=case.channel,
        status=case.status,
        form=json.loads(cipher.decrypt(case.form_encrypted)),
        submitted_at=case.submitted_at,
        due_date=case.due_date,
        rating=case.rating,
        grade=case.grade,
        rated_at=case.rated_at,
        assigned_to=case.assigned_to,
        presence=presence.to_read(case.presence),
        bundle_code=case.bundle_code,
        acceptance_mode=case.acceptance_mode,
        missing_materials=list(case.missing_materials or []),
        supplement_due=case.supplement_due,
        requested_materials=list(case.requested_materials or []),
        outcome=case.outcome,
        reason=case.reason,
        subcases=[
            SubCaseRead(
                subcase_id=s.id,
                matter_code=s.matter_code,
                matter_name=s.matter_name,
                department=s.department,
                status=s.status,
                depends_on=list(s.depends_on),
                due_date=s.due_date,
                decided_at=s.decided_at,
                reason=s.reason,
                license_type=s.license_type,
            )
            for s in subcases or []
        ],
    )


async def list_for_applicant(
    session: AsyncSession,
    applicant_index: str,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[Case]:
    """The applicant's cases, newest first, after the ``(submitted_at, id)`` of a page's last."""
    query = (
        select(Case)
        .where(Case.applicant_index == applicant_index)
        .order_by(Case.submitted_at.desc(), Case.id.desc())
        .limit(limit)
    )
    if after is not None:
        at, case_id = after
        query = query.where(
            or_(Case.submitted_at < at, and_(Case.submitted_at == at, Case.id < case_id))
        )
    return list((await session.scalars(query)).all())


async def get_for_applicant(
    session: AsyncSession, applicant_index: str, case_id: str
) -> Case | None:
    return await session.scalar(
        select(Case).where(Case.id == case_id, Case.applicant_index == applicant_index)
    )


async def record_review(
    session: AsyncSession, case_id: str, rating: int, grade: str, rated_at: datetime
) -> bool:
    """Note the applicant's review on the case; False when the case is unknown."""
    case = await session.get(Case, case_id)
    if case is None:
        return False
    case.rating = rating
    case.grade = grade
    case.rated_at = rated_at
    await session.flush()
    return True


def applicant_of(principal: InternalPrincipal, data: ApplicationCreate) -> tuple[str, str | None]:
    """Who applies and who the case is assigned to.

    Online, the caller applies for themself. At a window (channel ``window``) a staff
    member submits for the applicant named by ``applicant_id_number``, and the case is
    assigned to that staff member.
    """
    window_staff = principal.principal_type == "staff" and data.channel == "window"
    if window_staff:
        if not data.applicant_id_number:
            raise ProblemError(
                422,
                "applicant_required",
                "窗口受理须填写申请人身份证号",
                "applicant_id_number is required when staff submit at a window",
                title_en="Applicant required",
            )
        try:
            # The platform's one check: checksum, region, a birth date not in the future.
            applicant = resident_id(data.applicant_id_number)
        except InvalidIdentifier as exc:
            raise ProblemError(
                422,
                "id_number_invalid",
                "申请人身份证号码无效",
                f"applicant_id_number: {exc.reason}",
                title_en="Invalid ID number",
            ) from exc
        return applicant, principal.subject
    if data.presence is not None:
        raise ProblemError(
            422,
            "presence_not_allowed",
            "仅窗口受理可登记申请人到场",
            "presence is only for staff submitting at a window",
            title_en="Presence is for window submissions",
        )
    if data.applicant_id_number is not None:
        raise ProblemError(
            422,
            "applicant_not_allowed",
            "仅窗口受理可代申请人提交",
            "applicant_id_number is only for staff submitting at a window",
            title_en="Applicant may not be named",
        )
    return principal.subject, None


async def binding_of(session: AsyncSession, case_id: str) -> Case | None:
    return await session.get(Case, case_id)


async def attachments_of(
    session: AsyncSession,
    license_service: PeerClient,
    token: str,
    owners: set[str],
    case: Case,
    attachments: list[MaterialAttachment],
    caller_is_holder: bool,
) -> list[dict[str, Any]]:
    """Supplied materials checked like at submission; any problem refuses them all."""
    wanted = {m["code"]: m for m in case.required_materials}
    kinds, problems = await prereview.check_attachments(
        session, license_service, token, owners, wanted, attachments, caller_is_holder
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
