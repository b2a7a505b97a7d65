"""Tables owned by the gateway."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from yiwang_platform.audit_chain import audit_chain_table
from yiwang_platform.audit_checkpoints import audit_checkpoint_table
from yiwang_platform.idempotency import idempotency_table
from yiwang_platform.outbox import inbox_table, outbox_table


class GatewayBase(DeclarativeBase):
    """This service's own metadata: services never share tables."""


metadata = GatewayBase.metadata


# The audit log (调用留痕): hash-chained decisions, see gateway.access_log.
audit_entries = audit_chain_table(metadata, "audit_entries", indexed=("subject_index",))
# Signed checkpoints of its head, see yiwang_platform.audit_checkpoints.
audit_checkpoints = audit_checkpoint_table(metadata, audit_entries)
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
idempotency = idempotency_table(metadata)


# Tables defined in other modules join this metadata (and migrations) on import.
import gateway.identity_models  # noqa: E402, F401
