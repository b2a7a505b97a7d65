"""Submitting applications: each opens a case pinned to the current matter version,
with its deadline in working days, and announces it in the same transaction."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from intake import catalogue, deadlines
from intake.events import CaseSubmitted
from intake.models import Case
from intake.schemas import ApplicationCreate, CaseRead
from yiwang_platform.errors import ProblemError
from yiwang_platform.internal_token import InternalPrincipal
from yiwang_platform.outbox import Outbox
from yiwang_platform.pii import PiiCipher


async def submit(
    session: AsyncSession,
    outbox: Outbox,
    cipher: PiiCipher,
    applicant: str,
    data: ApplicationCreate,
    assigned_to: str | None = None,
) -> Case:
    """Open a case for ``applicant`` and add its event to the caller's transaction.

    ``assigned_to``: the window staff member who took the application; only they may
    read the applicant's data for this case.
    """
    matter = await catalogue.current(session, data.matter_code)
    if matter is None:
        raise ProblemError(
            422,
            "matter_unknown",
            "事项不存在或未发布",
            detail=f"matter {data.matter_code} is not in the published catalogue",
            title_en="Matter unknown or not published",
        )
    submitted_at = datetime.now(UTC)
    case = Case(
        id=str(uuid.uuid4()),
        matter_code=matter.code,
        matter_version=matter.version,
        matter_name=matter.name,
        department=matter.department,
        promised_days=matter.promised_days,
        channel=data.channel,
        status="submitted",
        applicant_encrypted=cipher.encrypt(applicant),
        applicant_index=cipher.blind_index(applicant),
        form_encrypted=cipher.encrypt(json.dumps(data.form, ensure_ascii=False)),
        submitted_at=submitted_at,
        due_date=deadlines.due_date(submitted_at, matter.promised_days),
        assigned_to=assigned_to,
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
            applicant_index=case.applicant_index,
        ),
        key=case.id,
    )
    return case


def to_read(case: Case, cipher: PiiCipher) -> CaseRead:
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
        return data.applicant_id_number.upper(), principal.subject
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
