"""Tables owned by the gateway: the audit log, identities, sign-in sessions and signing
keys, and the platform's outbox, inbox and idempotency records."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from yiwang_platform.audit_chain import audit_chain_table
from yiwang_platform.audit_checkpoints import audit_checkpoint_table
from yiwang_platform.db import UtcDateTime
from yiwang_platform.idempotency import idempotency_table
from yiwang_platform.outbox import inbox_table, outbox_table


class GatewayBase(DeclarativeBase):
    """This service's own metadata: services never share tables."""


metadata = GatewayBase.metadata


# The audit log (调用留痕): hash-chained decisions, see gateway.audit.access_log.
audit_entries = audit_chain_table(metadata, "audit_entries", indexed=("subject_index",))
# Signed checkpoints of its head, see yiwang_platform.audit_checkpoints.
audit_checkpoints = audit_checkpoint_table(metadata, audit_entries)
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
idempotency = idempotency_table(metadata)


class CitizenAccount(GatewayBase):
    """A citizen's account. Phone and ID number are stored encrypted with blind indexes."""

    __tablename__ = "citizen_accounts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    phone_index: Mapped[str] = mapped_column(String(64), unique=True)
    phone_enc: Mapped[str] = mapped_column(Text)
    password_hash: Mapped[str | None] = mapped_column(Text, nullable=True)
    id_index: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    id_enc: Mapped[str | None] = mapped_column(Text, nullable=True)
    real_name_bound_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class StaffAccount(GatewayBase):
    """Window staff and reviewers: a password plus a personal key (专属密钥) each."""

    __tablename__ = "staff_accounts"

    staff_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    password_hash: Mapped[str] = mapped_column(Text)
    personal_key_hash: Mapped[str] = mapped_column(String(64))
    department: Mapped[str] = mapped_column(String(200))
    hall: Mapped[str | None] = mapped_column(String(200), nullable=True)
    roles: Mapped[list[str]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class MachineClient(GatewayBase):
    """A partner city or county system: client credentials with a registered public key."""

    __tablename__ = "machine_clients"

    client_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    client_type: Mapped[str] = mapped_column(String(20))  # partner | county
    public_jwk: Mapped[dict[str, str]] = mapped_column(JSON)
    scopes: Mapped[list[str]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class RefreshToken(GatewayBase):
    """One refresh token of a sign-in session. Tokens rotate on use; the family is the session."""

    __tablename__ = "refresh_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_id: Mapped[str] = mapped_column(String(36), index=True)
    subject: Mapped[str] = mapped_column(Text)  # encrypted: may be an ID number
    principal_type: Mapped[str] = mapped_column(String(20))
    claims: Mapped[dict[str, object]] = mapped_column(JSON)
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class SigningKey(GatewayBase):
    """Access-token signing keys. The newest active key signs; retired keys still verify
    until the tokens they signed have expired."""

    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(32), primary_key=True)
    private_key_enc: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    retired_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
