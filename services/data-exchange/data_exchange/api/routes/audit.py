"""/api/v1/data-exchange/audit: the data-library access log's anchors, for supervisors,
operators and the auditors they give them to — the signed checkpoints of the chain's
head, their public key, a checkpoint on demand, and the verification of the whole chain
against them."""

from __future__ import annotations

from fastapi import APIRouter

from data_exchange.access_audit import session_chain_key
from data_exchange.collaborators import Collaborators
from data_exchange.models import access_log, access_log_checkpoints
from yiwang_platform.audit_checkpoints import checkpoint_router
from yiwang_platform.deps import get_session, part_of, require_principal

router = APIRouter(prefix="/api/v1/data-exchange/audit", tags=["audit"])

router.include_router(
    checkpoint_router(
        chain=access_log,
        checkpoints=access_log_checkpoints,
        session=get_session,
        reader=require_principal("supervisor", "operator"),
        signer=part_of(Collaborators, lambda c: c.checkpoint_key),
        chain_key=session_chain_key,
        log="the access log",
        verified="the access log",
        empty_title_en="The log is empty",
        verify_name="verify_access_log",
    )
)
