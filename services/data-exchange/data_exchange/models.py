"""Tables owned by the data-exchange service."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, Index, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from yiwang_platform.audit_chain import audit_chain_table
from yiwang_platform.audit_checkpoints import audit_checkpoint_table
from yiwang_platform.db import UtcDateTime
from yiwang_platform.idempotency import idempotency_table
from yiwang_platform.outbox import inbox_table, outbox_table


class ExchangeBase(DeclarativeBase):
    """This service's own metadata: services never share tables."""


metadata = ExchangeBase.metadata


class PopulationRecord(ExchangeBase):
    """One person in the population library (人口库), as last sent by a county system."""

    __tablename__ = "population_records"

    record_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # The ID number is stored encrypted and found by its blind index.
    id_index: Mapped[str] = mapped_column(String(64), unique=True)
    id_number: Mapped[str] = mapped_column(Text)  # encrypted
    name: Mapped[str] = mapped_column(Text)  # encrypted
    sex: Mapped[str] = mapped_column(String(2))
    ethnicity: Mapped[str | None] = mapped_column(String(20), nullable=True)
    birth_date: Mapped[date] = mapped_column(Date)
    household_address: Mapped[str | None] = mapped_column(Text, nullable=True)  # encrypted
    marital_status: Mapped[str | None] = mapped_column(String(10), nullable=True)
    # 户号: members of one household share it (the household read finds them by it).
    household_number: Mapped[str | None] = mapped_column(String(20), nullable=True, index=True)
    # The spouse, by ID number (encrypted) and its blind index.
    spouse_id_number: Mapped[str | None] = mapped_column(Text, nullable=True)  # encrypted
    spouse_index: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The reference face for face checks: the matcher's encoding as JSON, encrypted
    # (data_exchange.reference_faces). The photo it came from is never stored.
    face_encoding: Mapped[str | None] = mapped_column(Text, nullable=True)
    source: Mapped[str] = mapped_column(String(60))
    source_version: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())

    # An update only applies if the row still has the updated_at it was read with
    # (StaleDataError otherwise): where SELECT ... FOR UPDATE does not lock (SQLite), a
    # concurrent writer then cannot be overwritten with an older version.
    __mapper_args__ = {"version_id_col": updated_at, "version_id_generator": False}  # noqa: RUF012


class LegalPersonRecord(ExchangeBase):
    """One enterprise or organisation in the legal-person library (法人库).

    Registration data is public (it is printed on the business licence) and stored in
    clear; the legal representative's name and ID number are personal and encrypted.
    """

    __tablename__ = "legal_person_records"

    record_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    uscc: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    entity_type: Mapped[str] = mapped_column(String(40))
    representative_name: Mapped[str] = mapped_column(Text)  # encrypted
    representative_id_number: Mapped[str] = mapped_column(Text)  # encrypted
    representative_index: Mapped[str] = mapped_column(String(64), index=True)
    registered_address: Mapped[str] = mapped_column(String(200))
    business_scope: Mapped[str | None] = mapped_column(Text, nullable=True)
    established_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10))
    source: Mapped[str] = mapped_column(String(60))
    source_version: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())

    # As for population records: an update applies only over the row it was read as.
    __mapper_args__ = {"version_id_col": updated_at, "version_id_generator": False}  # noqa: RUF012


class LicenseIndexEntry(ExchangeBase):
    """The license library (证照库) index: which licenses a holder has, from license events."""

    __tablename__ = "license_index"
    __table_args__ = (Index("ix_license_index_holder_issued", "holder_index", "issued_at"),)

    license_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    license_type: Mapped[str] = mapped_column(String(60))
    holder_kind: Mapped[str] = mapped_column(String(20))
    holder_index: Mapped[str] = mapped_column(String(64))
    issuer: Mapped[str] = mapped_column(String(200))
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime())
    valid_until: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # valid or revoked (from the license service's revoked event); expiry is valid_until.
    status: Mapped[str] = mapped_column(String(20), default="valid", server_default="valid")
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


# Who read or wrote whose data in the libraries (hash-chained), see data_exchange.access_audit.
access_log = audit_chain_table(metadata, "access_log", indexed=("subject_index",))
access_log_checkpoints = audit_checkpoint_table(metadata, access_log)
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
idempotency = idempotency_table(metadata)
