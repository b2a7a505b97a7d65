"""Submitting applications: each is checked (the guide, then 智能预审), opens a case
pinned to the current matter version, with its deadline in working days, and announces
it in the same transaction. The applicant follows their own cases."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from intake import case_access, deadlines, guide, prereview, presence, workflow
from intake.events import CaseSubmitted
from intake.guide import Resolved
from intake.models import Case, CaseAccess
from intake.schemas import ApplicationCreate, PreReview, Problem, case_facts
from intake.workflow import CaseWithSubcases, case_not_found
from yiwang_platform.errors import ProblemError
from yiwang_platform.idempotency import Idempotency
from yiwang_platform.identifiers import InvalidIdentifier, is_resident_id, resident_id
from yiwang_platform.internal_token import InternalPrincipal
from yiwang_platform.outbox import Outbox
from yiwang_platform.pagination import decode_key, encode_key
from yiwang_platform.peers import PeerClient
from yiwang_platform.pii import PiiCipher


@dataclass(frozen=True)
class Checks:
    """What checking an application asks: the matters and license services (on the
    caller's token) and the cipher of the applicant's identifiers."""

    matters: PeerClient
    licenses: PeerClient
    token: str
    cipher: PiiCipher


class Submitted(NamedTuple):
    """The case a submission opened (or, replayed, opened the first time) and its status."""

    case: Case
    status: int


async def check(
    session: AsyncSession,
    *,
    applicant: str,
    data: ApplicationCreate,
    checks: Checks,
) -> tuple[Resolved, PreReview]:
    """What the application is for, and every problem the pre-review finds at once."""
    resolved = await guide.resolve(session, checks.matters, token=checks.token, data=data)
    result = await prereview.review(
        session,
        checks.licenses,
        cipher=checks.cipher,
        token=checks.token,
        applicant=applicant,
        checklist=resolved.checklist,
        form=data.form,
        attachments=data.materials,
        commitments=data.commitments,
    )
    if resolved.bundle_code is not None and not is_resident_id(applicant):
        result.problems.append(
            Problem(code="real_name_required", target="applicant", message="一件事须实名认证后申请")
        )
        result.passed = False
    return resolved, result


async def pre_review(
    session: AsyncSession,
    *,
    caller: InternalPrincipal,
    data: ApplicationCreate,
    checks: Checks,
) -> PreReview:
    """智能预审 of an application without submitting it."""
    applicant, _ = applicant_of(caller, data)
    _, result = await check(session, applicant=applicant, data=data, checks=checks)
    return result


async def submit(
    session: AsyncSession,
    outbox: Outbox,
    *,
    caller: InternalPrincipal,
    data: ApplicationCreate,
    idempotency: Idempotency,
    checks: Checks,
    presence_max_age_minutes: int,
    now: datetime,
) -> Submitted:
    """Check the application and open its case; a retry with the same Idempotency-Key
    answers the first case. Runs its own transactions: the peers are asked between
    them, so no database lock waits on them."""
    applicant, assigned_to = applicant_of(caller, data)
    cipher = checks.cipher
    # Idempotency keys are scoped by the blind index, so no identifier is stored in clear.
    applicant_index = cipher.blind_index(caller.subject)
    payload = data.model_dump()
    async with session.begin():
        prior = await idempotency.replay(session, applicant_index, payload=payload, cipher=cipher)
        if prior is not None:
            return Submitted(await session.get_one(Case, prior.resource_id), prior.status)
    window_presence: dict[str, Any] | None = None
    if assigned_to is not None and data.presence is not None:
        window_presence = presence.at_window(
            cipher.blind_index(applicant),
            data.presence,
            cipher=cipher,
            clerk=caller.subject,
            max_age=timedelta(minutes=presence_max_age_minutes),
            now=now,
        )
    # The checks only read, in a transaction of their own before the write's.
    async with session.begin():
        resolved, result = await check(session, applicant=applicant, data=data, checks=checks)
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
            prior = await idempotency.replay(
                session, applicant_index, payload=payload, cipher=cipher
            )
            if prior is not None:
                return Submitted(await session.get_one(Case, prior.resource_id), prior.status)
            case = await open_case(
                session,
                outbox,
                cipher=cipher,
                applicant=applicant,
                data=data,
                resolved=resolved,
                pre_review=result,
                assigned_to=assigned_to,
                window_presence=window_presence,
                now=now,
            )
            await idempotency.remember(session, 201, resource_id=case.id)
    except IntegrityError as exc:
        # Only a concurrent request with the same Idempotency-Key can collide here.
        raise ProblemError(
            409, "conflict", "资源冲突", "a request with this Idempotency-Key is in progress"
        ) from exc
    return Submitted(case, 201)


async def open_case(
    session: AsyncSession,
    outbox: Outbox,
    *,
    cipher: PiiCipher,
    applicant: str,
    data: ApplicationCreate,
    resolved: Resolved,
    pre_review: PreReview,
    assigned_to: str | None = None,
    window_presence: dict[str, Any] | None = None,
    now: datetime,
) -> Case:
    """Open a case for ``applicant`` and add its event to the caller's transaction.

    ``assigned_to``: the window staff member who took the application; only they may
    read the applicant's data for this case, and only once the applicant's presence
    (``window_presence``, checked by ``presence.at_window``) is recorded.
    """
    submitted_at = now
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
            **case_facts(case),
            channel=data.channel,
            submitted_at=case.submitted_at,
            bundle_code=case.bundle_code,
            applicant_index=case.applicant_index,
            due_date=case.due_date,
        ),
        key=case.id,
    )
    return case


async def list_for_applicant(
    session: AsyncSession, *, applicant_index: str, cursor: str | None, limit: int
) -> tuple[list[Case], str | None]:
    """The applicant's cases, newest first, after the ``(submitted_at, id)`` of a page's
    last; and the cursor of the next page."""
    query = (
        select(Case)
        .where(Case.applicant_index == applicant_index)
        .order_by(Case.submitted_at.desc(), Case.id.desc())
        .limit(limit)
    )
    after = decode_key(cursor, datetime, str)
    if after is not None:
        at, case_id = after
        query = query.where(
            or_(Case.submitted_at < at, and_(Case.submitted_at == at, Case.id < case_id))
        )
    cases = list((await session.scalars(query)).all())
    last = cases[-1] if len(cases) == limit else None
    return cases, encode_key(last.submitted_at, last.id) if last else None


async def _own_case(session: AsyncSession, case_id: str, *, applicant_index: str) -> Case:
    """One of the applicant's cases; another's is as absent as one that does not exist."""
    case = await session.scalar(
        select(Case).where(Case.id == case_id, Case.applicant_index == applicant_index)
    )
    if case is None:
        raise case_not_found()
    return case


async def get_for_applicant(
    session: AsyncSession, *, applicant_index: str, case_id: str
) -> CaseWithSubcases:
    case = await _own_case(session, case_id, applicant_index=applicant_index)
    return await workflow.with_subcases(session, case)


async def confirm_presence(
    session: AsyncSession, *, case_id: str, applicant_index: str, now: datetime
) -> CaseWithSubcases:
    """The applicant confirms, in their own app, a case a window clerk opened for them."""
    case = await session.get(Case, case_id, with_for_update=True)
    if case is None:
        raise case_not_found()
    presence.confirm_in_app(case, applicant_index, now=now)
    return await workflow.with_subcases(session, case)


async def access_log(
    session: AsyncSession, *, applicant_index: str, case_id: str, cursor: str | None, limit: int
) -> tuple[list[CaseAccess], str | None]:
    """Who looked at the applicant's case, newest first; and the cursor of the next page."""
    case = await _own_case(session, case_id, applicant_index=applicant_index)
    key = decode_key(cursor, int)
    rows = await case_access.entries(session, case.id, after=key[0] if key else None, limit=limit)
    return rows, encode_key(rows[-1].id) if len(rows) == limit else None


async def record_review(
    session: AsyncSession, *, case_id: str, rating: int, grade: str, rated_at: datetime
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
