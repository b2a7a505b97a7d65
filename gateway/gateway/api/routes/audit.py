"""/api/v1/gateway/audit: the gateway's hash-chained audit log, for supervisors and
operators — its entries, newest first, the signed checkpoints of its head and their
public key (for auditors to keep and check), and the verification of the whole chain
against those checkpoints."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel
from sqlalchemy import select

from gateway.api.deps import CallerDep
from gateway.identity import Principal
from gateway.models import audit_checkpoints, audit_entries
from yiwang_platform.audit_checkpoints import (
    CheckpointKey,
    CheckpointRead,
    listed,
    take,
    verify_anchored,
)
from yiwang_platform.deps import SessionDep
from yiwang_platform.errors import ProblemError
from yiwang_platform.pagination import Page, decode_key, encode_key

router = APIRouter(prefix="/api/v1/gateway/audit", tags=["audit"])

READERS = {"supervisor", "operator"}


class AuditEntryRead(BaseModel):
    seq: int
    at: datetime
    hash: str
    entry: dict[str, Any]


class VerifyRead(BaseModel):
    ok: bool
    entries_checked: int
    first_bad_seq: int | None
    reason: str | None
    head_hash: str | None
    checkpoints_checked: int


def _readers_only(caller: Principal) -> None:
    if caller.principal_type not in READERS:
        raise ProblemError(
            403, "forbidden", "无权访问", "the audit log is for supervisors and operators"
        )


def _after(cursor: str | None) -> int | None:
    key = decode_key(cursor, int)
    return None if key is None else key[0]


@router.get(
    "",
    response_model=Page[AuditEntryRead],
    summary="Audit entries (decisions), newest first; subjects masked",
)
async def list_audit_entries(
    session: SessionDep,
    caller: CallerDep,
    subject_index: Annotated[str | None, Query(pattern=r"^[0-9a-f]{64}$")] = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Page[AuditEntryRead]:
    _readers_only(caller)
    t = audit_entries
    query = select(t.c.seq, t.c.at, t.c.hash, t.c.entry).order_by(t.c.seq.desc()).limit(limit)
    if subject_index is not None:
        query = query.where(t.c.subject_index == subject_index)
    after = _after(cursor)
    if after is not None:
        query = query.where(t.c.seq < after)
    rows = (await session.execute(query)).all()
    items = [
        AuditEntryRead(seq=r.seq, at=r.at, hash=r.hash, entry=json.loads(r.entry)) for r in rows
    ]
    if subject_index is not None:  # the index column is not hashed: trust the entry
        items = [i for i in items if i.entry.get("subject_index") == subject_index]
    next_cursor = encode_key(rows[-1].seq) if len(rows) == limit else None
    return Page[AuditEntryRead](items=items, next_cursor=next_cursor)


@router.get(
    "/verify",
    response_model=VerifyRead,
    summary="Verify the whole hash chain against its signed checkpoints; reports the first "
    "altered entry, even when the chain after it was rebuilt",
)
async def verify_audit_chain(
    request: Request, session: SessionDep, caller: CallerDep
) -> VerifyRead:
    _readers_only(caller)
    key = request.app.state.forwarder.recorder.chain_key
    signer: CheckpointKey = request.app.state.audit_checkpoint_key
    result = await verify_anchored(
        session, audit_entries, checkpoints=audit_checkpoints, key=key, jwks=signer.jwks()
    )
    return VerifyRead(
        ok=result.ok,
        entries_checked=result.entries_checked,
        first_bad_seq=result.first_bad_seq,
        reason=result.reason,
        head_hash=result.head_hash,
        checkpoints_checked=result.checkpoints_checked,
    )


@router.get(
    "/checkpoints",
    response_model=Page[CheckpointRead],
    summary="Signed checkpoints of the chain's head, newest first",
)
async def list_checkpoints(
    session: SessionDep,
    caller: CallerDep,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Page[CheckpointRead]:
    _readers_only(caller)
    found = await listed(session, audit_checkpoints, before=_after(cursor), limit=limit)
    next_cursor = encode_key(found[-1].seq) if len(found) == limit else None
    return Page[CheckpointRead](
        items=[CheckpointRead.of(c) for c in found], next_cursor=next_cursor
    )


@router.post(
    "/checkpoints",
    response_model=CheckpointRead,
    summary="Sign a checkpoint of the head now (none new when nothing was appended)",
    responses={404: {"description": "the chain is empty"}},
)
async def take_checkpoint(
    request: Request, session: SessionDep, caller: CallerDep
) -> CheckpointRead:
    _readers_only(caller)
    await request.app.state.forwarder.recorder.flush()
    async with session.begin():
        made = await take(
            session,
            audit_entries,
            checkpoints=audit_checkpoints,
            key=request.app.state.audit_checkpoint_key,
            now=datetime.now(UTC),
        )
    if made is None:
        raise ProblemError(
            404, "audit_chain_empty", "审计日志为空", title_en="The audit log is empty"
        )
    return CheckpointRead.of(made)


@router.get(
    "/checkpoints/keys",
    summary="The public keys (JWKS) that verify the checkpoints' signatures",
)
async def checkpoint_keys(request: Request, caller: CallerDep) -> dict[str, Any]:
    _readers_only(caller)
    signer: CheckpointKey = request.app.state.audit_checkpoint_key
    return signer.jwks()
