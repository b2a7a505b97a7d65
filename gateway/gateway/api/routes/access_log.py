"""/api/v1/gateway/access-records: the gateway's record of routed requests."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import select

from gateway.api.deps import CallerDep
from gateway.models import AccessRecord
from gateway.schemas import AccessRecordRead
from yiwang_platform.errors import ProblemError
from yiwang_platform.pagination import Page, decode_cursor, encode_cursor
from yiwang_platform.service import SessionDep

router = APIRouter(prefix="/api/v1/gateway", tags=["access records"])

READERS = {"supervisor", "operator"}


@router.get(
    "/access-records",
    response_model=Page[AccessRecordRead],
    summary="Routed requests, newest first",
)
async def list_access_records(
    session: SessionDep,
    caller: CallerDep,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Page[AccessRecordRead]:
    if caller.principal_type not in READERS:
        raise ProblemError(
            403, "forbidden", "无权访问", "access records are for supervisors and operators"
        )
    query = (
        select(AccessRecord).order_by(AccessRecord.at.desc(), AccessRecord.id.desc()).limit(limit)
    )
    after = decode_cursor(cursor)
    if after:
        at_text, _, record_id = after.partition("|")
        from datetime import datetime

        at = datetime.fromisoformat(at_text)
        query = query.where(
            (AccessRecord.at < at) | ((AccessRecord.at == at) & (AccessRecord.id < record_id))
        )
    rows = list((await session.scalars(query)).all())
    next_cursor = (
        encode_cursor(f"{rows[-1].at.isoformat()}|{rows[-1].id}") if len(rows) == limit else None
    )
    return Page[AccessRecordRead](
        items=[AccessRecordRead.model_validate(r) for r in rows], next_cursor=next_cursor
    )
