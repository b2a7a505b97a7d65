"""The case access log: every time a department's reviewer opens a sub-case (the form
and the material list) or downloads a material file, in the transaction of the read.
The applicant reads it for their own case (``GET /applications/{id}/access-log``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from intake.models import CaseAccess
from yiwang_platform.internal_token import InternalPrincipal


async def record(
    session: AsyncSession,
    principal: InternalPrincipal,
    *,
    case_id: str,
    action: str,
    now: datetime,
    subcase_id: str | None = None,
    material: str | None = None,
    upload_id: str | None = None,
) -> None:
    department = principal.claims.get("dept")
    session.add(
        CaseAccess(
            case_id=case_id,
            at=now,
            accessor_type=principal.principal_type,
            accessor=principal.subject[:64],
            department=str(department)[:200] if department else None,
            action=action,
            subcase_id=subcase_id,
            material=material,
            upload_id=upload_id,
        )
    )
    await session.flush()


async def entries(
    session: AsyncSession, case_id: str, *, after: int | None, limit: int
) -> list[CaseAccess]:
    """Newest first, older than the entry ``after`` (a page's last id)."""
    query = (
        select(CaseAccess)
        .where(CaseAccess.case_id == case_id)
        .order_by(CaseAccess.id.desc())
        .limit(limit)
    )
    if after is not None:
        query = query.where(CaseAccess.id < after)
    return list((await session.scalars(query)).all())
