"""/api/v1/data-exchange/access-log/mine: the 数据使用记录 — who accessed the calling citizen's
data in the libraries, under which scenario, which fields and when. Only the caller's
own entries: the subject is the caller, never a parameter."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy import select

from data_exchange.access_audit import subject_of
from data_exchange.api.deps import CipherDep, require_type
from data_exchange.models import access_log
from yiwang_platform.deps import PrincipalDep, SessionDep
from yiwang_platform.pagination import Page, decode_key, encode_key

router = APIRouter(prefix="/api/v1/data-exchange/access-log", tags=["access log"])


class MyAccessRead(BaseModel):
    seq: int
    at: datetime
    accessor_type: str = Field(description="citizen, staff, county, partner, ...")
    accessor: str = Field(description="masked (staff: their staff id)")
    accessor_department: str | None = Field(default=None, description="staff: their department")
    case_id: str | None = Field(default=None, description="the case the read was for (staff)")
    presence: str | None = Field(
        default=None, description="staff reads for a case: how the applicant was present"
    )
    scenario: str | None
    purpose: str | None
    fields: list[str] = Field(description="library.field")
    outcome: str


@router.get(
    "/mine",
    response_model=Page[MyAccessRead],
    summary="Who accessed my data and why (citizens), newest first",
)
async def my_access_log(
    session: SessionDep,
    principal: PrincipalDep,
    cipher: CipherDep,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[MyAccessRead]:
    require_type(principal, "citizen")
    mine = subject_of(principal, cipher)
    t = access_log
    query = (
        select(t.c.seq, t.c.entry)
        .where(t.c.subject_index == mine)
        .order_by(t.c.seq.desc())
        .limit(limit)
    )
    after = decode_key(cursor, int)
    if after is not None:
        query = query.where(t.c.seq < after[0])
    rows = (await session.execute(query)).all()
    items = []
    for row in rows:
        entry = json.loads(row.entry)
        if entry.get("subject_index") != mine:  # the look-up column is not hashed
            continue
        items.append(
            MyAccessRead(
                seq=row.seq,
                at=datetime.fromisoformat(entry["at"]),
                accessor_type=entry["accessor_type"],
                accessor=entry["accessor"],
                accessor_department=entry.get("accessor_department"),
                case_id=entry.get("case_id"),
                presence=entry.get("presence"),
                scenario=entry.get("scenario"),
                purpose=entry.get("purpose"),
                fields=entry.get("fields", []),
                outcome=entry["outcome"],
            )
        )
    next_cursor = encode_key(rows[-1].seq) if len(rows) == limit else None
    return Page[MyAccessRead](items=items, next_cursor=next_cursor)
