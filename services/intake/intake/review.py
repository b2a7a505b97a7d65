"""A department's reviewers and their sub-cases: the queue, what a reviewer sees before
deciding (the case's form, its materials and the results of the sub-cases it depends
on) and the decision. Only reviewers of the sub-case's own department; every view and
download goes into the case access log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from intake import case_access, materials, workflow
from intake.models import Case, SubCase, Upload
from intake.schemas import Decision
from yiwang_platform.deps import PrincipalDep, forbidden
from yiwang_platform.errors import ProblemError
from yiwang_platform.internal_token import InternalPrincipal
from yiwang_platform.outbox import Outbox
from yiwang_platform.pagination import decode_id, encode_key
from yiwang_platform.peers import PeerClient
from yiwang_platform.pii import PiiCipher


async def reviewer_department(principal: PrincipalDep) -> str:
    """The department of a reviewer (role ``reviewer``); 403 for anyone else."""
    department = principal.claims.get("dept")
    if (
        principal.principal_type != "staff"
        or "reviewer" not in principal.claims.get("roles", [])
        or not department
    ):
        raise forbidden("for department reviewers only")
    return str(department)


def subcase_not_found() -> ProblemError:
    return ProblemError(404, "subcase_not_found", "子办件不存在", title_en="Sub-case not found")


@dataclass
class SubCaseView:
    """A sub-case with what its reviewer decides on."""

    subcase: SubCase
    case: Case
    uploads: dict[str, Upload]  # the case's uploaded materials, by id
    dependencies: list[SubCase]  # the sub-cases this one depends on


async def queue(
    session: AsyncSession, *, department: str, status: str, cursor: str | None, limit: int
) -> tuple[list[SubCase], str | None]:
    """The department's sub-cases by status, and the cursor of the next page."""
    query = (
        select(SubCase)
        .where(SubCase.department == department, SubCase.status == status)
        .order_by(SubCase.id)
        .limit(limit)
    )
    after = decode_id(cursor)
    if after is not None:
        query = query.where(SubCase.id > after)
    rows = list((await session.scalars(query)).all())
    return rows, encode_key(rows[-1].id) if len(rows) == limit else None


async def of_department(
    session: AsyncSession, subcase_id: str, *, department: str, lock: bool = False
) -> tuple[SubCase, Case]:
    """The sub-case and its case; another department's is as absent as a missing one."""
    subcase = await session.get(SubCase, subcase_id, with_for_update=lock)
    if subcase is None or subcase.department != department:
        raise subcase_not_found()
    case = await session.get(Case, subcase.case_id, with_for_update=lock)
    assert case is not None
    return subcase, case


async def view(
    session: AsyncSession,
    principal: InternalPrincipal,
    *,
    subcase_id: str,
    department: str,
    now: datetime,
) -> SubCaseView:
    """The sub-case as its reviewer decides it; the view is logged on the case."""
    subcase, case = await of_department(session, subcase_id, department=department)
    ids = [m["ref"] for m in case.materials if m["kind"] == "upload" and m["ref"]]
    uploads = {
        u.id: u for u in (await session.scalars(select(Upload).where(Upload.id.in_(ids)))).all()
    }
    dependencies: list[SubCase] = []
    if subcase.depends_on:
        rows = await session.scalars(
            select(SubCase).where(SubCase.id.in_(subcase.depends_on)).order_by(SubCase.id)
        )
        dependencies = list(rows.all())
    await case_access.record(
        session, principal, case_id=case.id, action="view", now=now, subcase_id=subcase.id
    )
    return SubCaseView(subcase, case, uploads, dependencies)


async def material(
    session: AsyncSession,
    principal: InternalPrincipal,
    *,
    subcase_id: str,
    upload_id: str,
    department: str,
    now: datetime,
) -> Upload:
    """A file of the sub-case's case, for its reviewer; the download is logged on the case."""
    subcase, case = await of_department(session, subcase_id, department=department)
    code, upload = await materials.case_upload(session, case, upload_id=upload_id)
    await case_access.record(
        session,
        principal,
        case_id=case.id,
        action="download",
        now=now,
        subcase_id=subcase.id,
        material=code,
        upload_id=upload.id,
    )
    return upload


async def _license_type(licenses: PeerClient, code: str, *, token: str) -> dict[str, Any] | None:
    """What the license service's type ``code`` declares, or None when it has none."""
    status, types = await licenses.call("GET", "/api/v1/license/license-types", token=token)
    if status != 200 or not isinstance(types, list):
        raise ProblemError(502, "peer_error", "依赖的服务返回错误", f"license answered {status}")
    return next((t for t in types if t.get("code") == code), None)


async def decide(
    session: AsyncSession,
    outbox: Outbox,
    *,
    subcase_id: str,
    department: str,
    reviewer: str,
    decision: Decision,
    cipher: PiiCipher,
    licenses: PeerClient,
    token: str,
    now: datetime,
) -> SubCase:
    """审批决定 on one of the department's sub-cases. Runs its own transactions: what
    the e-license of an approved sub-case carries is asked of the license service
    before the sub-case is locked."""
    license_type = None
    if decision.decision == "approved":
        async with session.begin():
            license_code = await session.scalar(
                select(SubCase.license_type).where(
                    SubCase.id == subcase_id, SubCase.department == department
                )
            )
        if license_code:
            license_type = await _license_type(licenses, license_code, token=token)
    async with session.begin():
        subcase, case = await of_department(session, subcase_id, department=department, lock=True)
        await workflow.decide(
            session,
            outbox,
            cipher=cipher,
            case=case,
            subcase=subcase,
            reviewer=reviewer,
            decision=decision.decision,
            reason=decision.reason,
            fields=dict(decision.fields),
            now=now,
            license_type=license_type,
        )
    return subcase
