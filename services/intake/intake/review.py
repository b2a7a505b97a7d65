"""What a department's reviewer sees of a sub-case before deciding it: the case's form,
its materials and the results of the sub-cases it depends on. Only reviewers of the
sub-case's own department; every view and download goes into the case access log."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from intake import case_access, materials
from intake.models import Case, SubCase, Upload
from intake.schemas import DependencyResult, MaterialRead, SubCaseDetailRead
from yiwang_platform.errors import ProblemError
from yiwang_platform.internal_token import InternalPrincipal
from yiwang_platform.pii import PiiCipher

SUBCASES = "/api/v1/intake/subcases"


def subcase_not_found() -> ProblemError:
    return ProblemError(404, "subcase_not_found", "子办件不存在", title_en="Sub-case not found")


async def of_department(
    session: AsyncSession, subcase_id: str, department: str
) -> tuple[SubCase, Case]:
    """The sub-case and its case; another department's is as absent as a missing one."""
    subcase = await session.get(SubCase, subcase_id)
    if subcase is None or subcase.department != department:
        raise subcase_not_found()
    case = await session.get(Case, subcase.case_id)
    assert case is not None
    return subcase, case


async def _materials(session: AsyncSession, case: Case, subcase_id: str) -> list[MaterialRead]:
    ids = [m["ref"] for m in case.materials if m["kind"] == "upload" and m["ref"]]
    uploads = {
        u.id: u for u in (await session.scalars(select(Upload).where(Upload.id.in_(ids)))).all()
    }
    out = []
    for m in case.materials:
        upload = uploads.get(m["ref"]) if m["kind"] == "upload" else None
        out.append(
            MaterialRead(
                code=m["code"],
                kind=m["kind"],
                upload_id=m["ref"] if m["kind"] == "upload" else None,
                license_id=m["ref"] if m["kind"] == "license" else None,
                name=upload.name if upload else None,
                content_type=upload.content_type if upload else None,
                size=upload.size if upload else None,
                sha256=upload.sha256 if upload else None,
                download=f"{SUBCASES}/{subcase_id}/materials/{upload.id}" if upload else None,
            )
        )
    return out


async def _dependencies(
    session: AsyncSession, subcase: SubCase, cipher: PiiCipher
) -> list[DependencyResult]:
    if not subcase.depends_on:
        return []
    rows = await session.scalars(
        select(SubCase).where(SubCase.id.in_(subcase.depends_on)).order_by(SubCase.id)
    )
    return [
        DependencyResult(
            subcase_id=d.id,
            matter_code=d.matter_code,
            matter_name=d.matter_name,
            department=d.department,
            status=d.status,
            decided_at=d.decided_at,
            reason=d.reason,
            fields=json.loads(cipher.decrypt(d.result_encrypted)) if d.result_encrypted else {},
        )
        for d in rows.all()
    ]


async def view(
    session: AsyncSession,
    principal: InternalPrincipal,
    *,
    subcase_id: str,
    department: str,
    cipher: PiiCipher,
    now: datetime,
) -> SubCaseDetailRead:
    """The sub-case as its reviewer decides it; the view is logged on the case."""
    subcase, case = await of_department(session, subcase_id, department)
    detail = SubCaseDetailRead(
        subcase_id=subcase.id,
        matter_code=subcase.matter_code,
        matter_name=subcase.matter_name,
        department=subcase.department,
        status=subcase.status,
        depends_on=list(subcase.depends_on),
        due_date=subcase.due_date,
        decided_at=subcase.decided_at,
        reason=subcase.reason,
        license_type=subcase.license_type,
        case_id=case.id,
        bundle_code=case.bundle_code,
        case_matter_code=case.matter_code,
        form=json.loads(cipher.decrypt(case.form_encrypted)),
        materials=await _materials(session, case, subcase.id),
        dependencies=await _dependencies(session, subcase, cipher),
    )
    await case_access.record(
        session, principal, case_id=case.id, action="view", now=now, subcase_id=subcase.id
    )
    return detail


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
    subcase, case = await of_department(session, subcase_id, department)
    code, upload = await materials.case_upload(session, case, upload_id)
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
