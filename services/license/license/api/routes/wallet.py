"""/api/v1/license/wallet: the caller's own licenses (证照夹)."""

from __future__ import annotations

from fastapi import APIRouter

from license import licenses
from license.api.deps import CipherDep, HolderDep, PageLimit
from license.schemas import LicenseRead
from yiwang_platform.deps import SessionDep
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
    holder: HolderDep,
    cipher: CipherDep,
    cursor: str | None = None,
    limit: PageLimit = 50,
) -> Page[LicenseRead]:
    return await licenses.page(
        session=session, cipher=cipher, holder_index=holder, cursor=cursor, limit=limit
    )
