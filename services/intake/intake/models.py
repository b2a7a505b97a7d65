"""Tables owned by the intake service."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from yiwang_platform.db import UtcDateTime
from yiwang_platform.idempotency import idempotency_table
from yiwang_platform.outbox import inbox_table, outbox_table


class IntakeBase(DeclarativeBase):
    """This service's own metadata: services never share tables."""


metadata = IntakeBase.metadata


class MatterVersion(IntakeBase):
    """A published version of a matter, copied from the matters service's events.

    Every version is kept; the highest version of a code is the current one, whatever
    order the events arrived in.
    """

    __tablename__ = "matter_versions"
    __table_args__ = (UniqueConstraint("code", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(40), index=True)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))
    department: Mapped[str] = mapped_column(String(200))
    promised_days: Mapped[int] = mapped_column(Integer)
    published_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # The rest of the implementation-list elements as published (materials, license
    # type, 告知承诺 allowed, ...), kept whole so a case can be checked against them.
    elements: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Case(IntakeBase):
    """An application and the case (办件) it opened, pinned to the matter version of the day."""

    __tablename__ = "cases"
    __table_args__ = (Index("ix_cases_applicant_recent", "applicant_index", "submitted_at", "id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    matter_code: Mapped[str] = mapped_column(String(40))
    matter_version: Mapped[int] = mapped_column(Integer)
    matter_name: Mapped[str] = mapped_column(String(200))
    department: Mapped[str] = mapped_column(String(200))
    promised_days: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    # The applicant's identifier, encrypted, plus its blind index for "my cases" look-ups.
    applicant_encrypted: Mapped[str] = mapped_column(Text)
    applicant_index: Mapped[str] = mapped_column(String(64))
    # Form fields may hold personal data, so the whole form is encrypted as well.
    form_encrypted: Mapped[str] = mapped_column(Text)
    submitted_at: Mapped[datetime] = mapped_column(UtcDateTime())
    due_date: Mapped[date] = mapped_column(Date)
    rating: Mapped[int | None] = mapped_column(Integer, nullable=True)
    grade: Mapped[str | None] = mapped_column(String(10), nullable=True)
    rated_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # The staff member who took the application at a window: only they may read the
    # applicant's data for it (scenario binding ``case``).
    assigned_to: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # How the applicant was shown to be there (``presence.py``): {"method": applicant |
    # id_card | face | app_confirmation, ...}. None while a case a clerk opened for
    # someone waits for it: until then nobody may read the applicant's library data.
    presence: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)

    # A bundle (一件事) case: its code and the guide's answers; sub-cases hold members.
    bundle_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    bundle_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    applicant_kind: Mapped[str] = mapped_column(String(20), default="citizen")
    # Materials as attached: [{"code", "kind": upload|license|commitment, "ref"}].
    materials: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # The member matters the guide chose: [{"code", "version", "depends_on", ...}].
    plan: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # What the material list asked for, so acceptance can tell key from non-key.
    required_materials: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    accepted_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    accepted_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    acceptance_mode: Mapped[str | None] = mapped_column(String(20), nullable=True)
    supplement_due: Mapped[date | None] = mapped_column(Date, nullable=True)
    missing_materials: Mapped[list[str]] = mapped_column(JSON, default=list)
    # 补正: while suspended the clock stops; the days stopped move every deadline.
    suspended_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    requested_materials: Mapped[list[str]] = mapped_column(JSON, default=list)
    suspended_working_days: Mapped[int] = mapped_column(Integer, default=0)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(20), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class SubCase(IntakeBase):
    """One member matter of an accepted case, with its department (并联审批)."""

    __tablename__ = "subcases"
    __table_args__ = (Index("ix_subcases_department_status", "department", "status"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    matter_code: Mapped[str] = mapped_column(String(40))
    matter_version: Mapped[int] = mapped_column(Integer)
    matter_name: Mapped[str] = mapped_column(String(200))
    department: Mapped[str] = mapped_column(String(200))
    promised_days: Mapped[int] = mapped_column(Integer)
    license_type: Mapped[str | None] = mapped_column(String(60), nullable=True)
    # Sub-case ids that must be approved before this one is routed (N+1 push).
    depends_on: Mapped[list[str]] = mapped_column(JSON, default=list)
    # waiting (dependencies open) → routed → approved | refused; cancelled when a
    # dependency was refused.
    status: Mapped[str] = mapped_column(String(20))
    routed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    due_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The fields the department set with its decision (e.g. the credit code it assigned),
    # encrypted: the departments that depend on this sub-case read them.
    result_encrypted: Mapped[str | None] = mapped_column(Text, nullable=True)


class CaseAccess(IntakeBase):
    """Who looked at a case's form or downloaded its materials; the applicant sees it."""

    __tablename__ = "case_access_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(36), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    accessor_type: Mapped[str] = mapped_column(String(20))
    accessor: Mapped[str] = mapped_column(String(64))
    department: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # view: the sub-case with the form; download: one material file.
    action: Mapped[str] = mapped_column(String(20))
    subcase_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    material: Mapped[str | None] = mapped_column(String(64), nullable=True)
    upload_id: Mapped[str | None] = mapped_column(String(36), nullable=True)


class Upload(IntakeBase):
    """A material file uploaded by an applicant or a clerk, referenced by applications.

    Kept under its generated id only; ``name`` is a display name, sanitised."""

    __tablename__ = "uploads"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    owner_index: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_at: Mapped[datetime] = mapped_column(UtcDateTime())


outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
idempotency = idempotency_table(metadata)
