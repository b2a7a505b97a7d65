"""/api/v1/license/wallet: the caller's own licenses (证照夹)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from license import issuance
from license.api.deps import CipherDep, holder_of
from license.api.routes.licenses import after_cursor, cursor_of
from license.schemas import LicenseRead
from yiwang_platform.deps import PrincipalDep, SessionDep
from yiwang_platform.pagination import Page

router = APIRouter(prefix="/api/v1/license/wallet", tags=["wallet"])


@router.get(
    "",
    response_model=Page[LicenseRead],
    summary="The caller's licenses, newest first (citizens by ID number, enterprises by "
    "credit code)",
)
async def wallet(
    session: SessionDep,
    principal: PrincipalDep,
    cipher: CipherDep,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[LicenseRead]:
    rows = await issuance.newest_first(
        session, holder_of(principal, cipher), after_cursor(cursor), limit
    )
    next_cursor = cursor_of(rows[-1]) if len(rows) == limit else None
    return Page[LicenseRead](
        items=[issuance.to_read(r, cipher) for r in rows], next_cursor=next_cursor
    )
