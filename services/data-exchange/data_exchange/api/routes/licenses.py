"""/api/v1/data-exchange/licenses: the license library index, by holder."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from data_exchange import license_index
from data_exchange.schemas import LicenseIndexRead
from yiwang_platform.deps import CipherDep, NowDep, OutboxDep, PrincipalDep, SessionDep
from yiwang_platform.errors import ProblemError
from yiwang_platform.pagination import Page

router = APIRouter(prefix="/api/v1/data-exchange/licenses", tags=["licenses"])


@router.get(
    "",
    response_model=Page[LicenseIndexRead],
    summary="A holder's licenses, newest first (staff: any holder; citizens, enterprises: own)",
    description="Each license shows its status (valid or revoked). `status=valid` lists only "
    "licenses that can be relied on now (neither revoked nor expired), as 免提交 needs; "
    "`status=revoked` only revoked ones.",
)
async def list_licenses(
    session: SessionDep,
    outbox: OutboxDep,
    principal: PrincipalDep,
    cipher: CipherDep,
    now: NowDep,
    holder_index: Annotated[str, Query(pattern=r"^[0-9a-f]{64}$")],
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    status: license_index.IndexStatus | None = None,
) -> Page[LicenseIndexRead]:
    async with session.begin():
        found = await license_index.listing(
            session=session,
            outbox=outbox,
            principal=principal,
            cipher=cipher,
            holder_index=holder_index,
            cursor=cursor,
            limit=limit,
            status=status,
            now=now,
        )
    if found is None:
        raise ProblemError(403, "forbidden", "无权访问")
    rows, next_cursor = found
    return Page[LicenseIndexRead](
        items=[LicenseIndexRead.model_validate(r) for r in rows], next_cursor=next_cursor
    )
