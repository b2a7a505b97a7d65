"""Tables owned by the intake service."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Index, Integer, String, Text, UniqueConstraint
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


outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
idempotency = idempotency_table(metadata)
