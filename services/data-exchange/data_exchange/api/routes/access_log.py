"""/api/v1/data-exchange/access-log/mine: the 数据使用记录 — who accessed the calling citizen's
data in the libraries, under which scenario, which fields and when. Only the caller's
own entries: the subject is the caller, never a parameter."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from data_exchange import access_audit
from data_exchange.api.deps import CitizenDep
from data_exchange.schemas import MyAccessRead
from yiwang_platform.deps import CipherDep, SessionDep
from yiwang_platform.pagination import Page

router = APIRouter(prefix="/api/v1/data-exchange/access-log", tags=["access log"])


@router.get(
    "/mine",
    response_model=Page[MyAccessRead],
    summary="Who accessed my data and why (citizens), newest first",
)
async def my_access_log(
    session: SessionDep,
    principal: CitizenDep,
    cipher: CipherDep,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[MyAccessRead]:
    entries, next_cursor = await access_audit.own_entries(
        session, principal, cipher=cipher, cursor=cursor, limit=limit
    )
    return Page[MyAccessRead](
        items=[MyAccessRead.of(seq, entry) for seq, entry in entries], next_cursor=next_cursor
    )
