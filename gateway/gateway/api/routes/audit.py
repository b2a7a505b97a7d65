"""/api/v1/gateway/audit: the gateway's hash-chained audit log, for supervisors and
operators — its entries, newest first, the signed checkpoints of its head and their
public key (for auditors to keep and check), and the verification of the whole chain
against those checkpoints."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from gateway.api.deps import AuditReaderDep
from gateway.audit.chain import list_entries
from gateway.collaborators import audit_chain_key, audit_reader, audit_written, checkpoint_key
from gateway.models import audit_checkpoints, audit_entries
from gateway.schemas import AuditEntryRead
from yiwang_platform.audit_checkpoints import checkpoint_router
from yiwang_platform.deps import SessionDep, get_session
from yiwang_platform.pagination import Page

router = APIRouter(prefix="/api/v1/gateway/audit", tags=["audit"])


@router.get(
    "",
    response_model=Page[AuditEntryRead],
    summary="Audit entries (decisions), newest first; subjects masked",
)
async def list_audit_entries(
    session: SessionDep,
    caller: AuditReaderDep,
    subject_index: Annotated[str | None, Query(pattern=r"^[0-9a-f]{64}$")] = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Page[AuditEntryRead]:
    return await list_entries(session, subject_index=subject_index, cursor=cursor, limit=limit)


router.include_router(
    checkpoint_router(
        chain=audit_entries,
        checkpoints=audit_checkpoints,
        session=get_session,
        reader=audit_reader,
        signer=checkpoint_key,
        chain_key=audit_chain_key,
        settle=audit_written,
    )
)
