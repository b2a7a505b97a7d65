"""/api/v1/data-exchange/audit: the data-library access log's anchors, for supervisors,
operators and the auditors they give them to — the signed checkpoints of the chain's
head, their public key, a checkpoint on demand, and the verification of the whole chain
against them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from data_exchange.access_audit import KEY_INFO
from data_exchange.api.deps import require_type
from data_exchange.models import access_log, access_log_checkpoints
from yiwang_platform.audit_checkpoints import (
    CheckpointKey,
    CheckpointRead,
    listed,
    take,
    verify_anchored,
)
from yiwang_platform.deps import PrincipalDep, SessionDep
from yiwang_platform.errors import ProblemError
from yiwang_platform.pagination import Page, decode_key, encode_key

router = APIRouter(prefix="/api/v1/data-exchange/audit", tags=["audit"])

READERS = ("supervisor", "operator")


class VerifyRead(BaseModel):
    ok: bool
    entries_checked: int
    first_bad_seq: int | None
    reason: str | None
    head_hash: str | None
    checkpoints_checked: int


def _signer(request: Request) -> CheckpointKey:
    signer: CheckpointKey = request.app.state.audit_checkpoint_key
    return signer


def _before(cursor: str | None) -> int | None:
    key = decode_key(cursor, int)
    return None if key is None else int(key[0])


@router.get(
    "/checkpoints",
    response_model=Page[CheckpointRead],
    summary="Signed checkpoints of the access log's head, newest first",
)
async def list_checkpoints(
    session: SessionDep,
    principal: PrincipalDep,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Page[CheckpointRead]:
    require_type(principal, *READERS)
    found = await listed(session, access_log_checkpoints, before=_before(cursor), limit=limit)
    next_cursor = encode_key(found[-1].seq) if len(found) == limit else None
    return Page[CheckpointRead](
        items=[CheckpointRead.of(c) for c in found], next_cursor=next_cursor
    )


@router.post(
    "/checkpoints",
    response_model=CheckpointRead,
    summary="Sign a checkpoint of the head now (none new when nothing was appended)",
    responses={404: {"description": "the access log is empty"}},
)
async def take_checkpoint(
    request: Request, session: SessionDep, principal: PrincipalDep
) -> CheckpointRead:
    require_type(principal, *READERS)
    async with session.begin():
        made = await take(
            session,
            access_log,
            checkpoints=access_log_checkpoints,
            key=_signer(request),
            now=datetime.now(UTC),
        )
    if made is None:
        raise ProblemError(404, "audit_chain_empty", "审计日志为空", title_en="The log is empty")
    return CheckpointRead.of(made)


@router.get(
    "/checkpoints/keys",
    summary="The public keys (JWKS) that verify the checkpoints' signatures",
)
async def checkpoint_keys(request: Request, principal: PrincipalDep) -> dict[str, Any]:
    require_type(principal, *READERS)
    return _signer(request).jwks()


@router.get(
    "/verify",
    response_model=VerifyRead,
    summary="Verify the access log against its signed checkpoints; reports the first "
    "altered entry, even when the chain after it was rebuilt",
)
async def verify_access_log(
    request: Request, session: SessionDep, principal: PrincipalDep
) -> VerifyRead:
    require_type(principal, *READERS)
    result = await verify_anchored(
        session,
        access_log,
        checkpoints=access_log_checkpoints,
        key=session.info.get(KEY_INFO),
        jwks=_signer(request).jwks(),
    )
    return VerifyRead(
        ok=result.ok,
        entries_checked=result.entries_checked,
        first_bad_seq=result.first_bad_seq,
        reason=result.reason,
        head_hash=result.head_hash,
        checkpoints_checked=result.checkpoints_checked,
    )
