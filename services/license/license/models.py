"""Tables owned by the license service."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from yiwang_platform.db import UtcDateTime
from yiwang_platform.idempotency import idempotency_table
from yiwang_platform.outbox import inbox_table, outbox_table


class LicenseBase(DeclarativeBase):
    """This service's own metadata: services never share tables."""


metadata = LicenseBase.metadata


class License(LicenseBase):
    """An issued electronic license (电子证照) with the issuer's seal."""

    __tablename__ = "licenses"
    __table_args__ = (
        Index("ix_licenses_holder_issued", "holder_index", "issued_at"),
        Index("ix_licenses_issued", "issued_at"),
    )

    license_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    license_type: Mapped[str] = mapped_column(String(60))
    holder_kind: Mapped[str] = mapped_column(String(20))
    # The holder's ID number or credit code: encrypted, found by its blind index.
    holder_index: Mapped[str] = mapped_column(String(64))
    holder_id_encrypted: Mapped[str] = mapped_column(Text)
    # The holder's name and the license's data fields (a JSON object), encrypted like the
    # holder id; the seal signs their plaintext (see issuance.opened). Null only on rows
    # stored before encryption at rest, until the start-time migration (license.storage)
    # encrypts them and clears the two legacy columns below.
    holder_name_encrypted: Mapped[str | None] = mapped_column(Text, nullable=True)
    fields_encrypted: Mapped[str | None] = mapped_column(Text, nullable=True)
    legacy_holder_name: Mapped[str | None] = mapped_column(
        "holder_name", String(200), nullable=True
    )
    legacy_fields: Mapped[dict[str, str] | None] = mapped_column(
        "fields", JSON(none_as_null=True), nullable=True
    )
    issuer: Mapped[str] = mapped_column(String(200))
    issued_by: Mapped[str] = mapped_column(String(200))
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime())
    valid_until: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    signature: Mapped[str] = mapped_column(String(100))
    seal_key_id: Mapped[str] = mapped_column(String(32))
    # Selective disclosure: one random salt per field and the seal over the salted
    # digests (null for licenses sealed before presentations existed).
    field_salts: Mapped[dict[str, str] | None] = mapped_column(JSON, nullable=True)
    disclosure_signature: Mapped[str | None] = mapped_column(String(100), nullable=True)
    # valid or revoked; expiry is read from valid_until.
    status: Mapped[str] = mapped_column(String(20), default="valid", server_default="valid")
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    revoked_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    revocation_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    # The case that yielded it, when issued on an approval.
    case_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    subcase_id: Mapped[str | None] = mapped_column(String(64), nullable=True)


class LicenseUsage(LicenseBase):
    """Every read, presentation and verification of a license (用证记录). Readers are
    stored as blind indexes (citizens, enterprises) or account ids (staff, machines)."""

    __tablename__ = "license_usage"
    __table_args__ = (Index("ix_license_usage_license_at", "license_id", "at"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    license_id: Mapped[str] = mapped_column(String(36))
    action: Mapped[str] = mapped_column(String(20))
    reader_type: Mapped[str] = mapped_column(String(40))
    reader: Mapped[str] = mapped_column(String(200))
    scenario: Mapped[str | None] = mapped_column(String(100), nullable=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())


outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
idempotency = idempotency_table(metadata)
