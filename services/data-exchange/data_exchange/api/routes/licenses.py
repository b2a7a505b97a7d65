"""/api/v1/data-exchange/licenses: the license library index, by holder."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from data_exchange import license_index
from data_exchange.access_audit import record_access
from data_exchange.api.deps import CipherDep
from data_exchange.models import LicenseIndexEntry
from data_exchange.schemas import LicenseIndexRead
from yiwang_platform.deps import PrincipalDep, SessionDep
from yiwang_platform.errors import ProblemError
from yiwang_platform.pagination import Page, decode_key, encode_key

router = APIRouter(prefix="/api/v1/data-exchange/licenses", tags=["licenses"])


def _cursor_of(entry: LicenseIndexEntry) -> str:
    return encode_key(entry.issued_at, entry.license_id)


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
    principal: PrincipalDep,
    cipher: CipherDep,
    holder_index: Annotated[str, Query(pattern=r"^[0-9a-f]{64}$")],
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    status: license_index.IndexStatus | None = None,
) -> Page[LicenseIndexRead]:
    own = principal.principal_type in ("citizen", "enterprise") and (
        holder_index == cipher.blind_index(principal.subject)
    )
    if principal.principal_type != "staff" and not own:
        await record_access(session, principal, holder_index, ["license.index"], "refused")
        raise ProblemError(403, "forbidden", "无权访问")
    rows = await license_index.for_holder(
        session,
        holder_index,
        decode_key(cursor, datetime, str),
        limit,
        status=status,
        now=datetime.now(UTC),
    )
    await record_access(session, principal, holder_index, ["license.index"], "read")
    next_cursor = _cursor_of(rows[-1]) if len(rows) == limit else None
    return Page[LicenseIndexRead](
        items=[LicenseIndexRead.model_validate(r) for r in rows], next_cursor=next_cursor
    )
