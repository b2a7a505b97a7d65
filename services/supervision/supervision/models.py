"""Tables owned by the supervision service."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from yiwang_platform.db import UtcDateTime
from yiwang_platform.idempotency import idempotency_table
from yiwang_platform.outbox import inbox_table, outbox_table


class SupervisionBase(DeclarativeBase):
    """This service's own metadata: services never share tables."""


metadata = SupervisionBase.metadata


class CaseWatch(SupervisionBase):
    """The deadline of a submitted case, in working days, as supervision computes it."""

    __tablename__ = "case_watches"
    __table_args__ = (Index("ix_case_watches_due", "due_date", "case_id"),)

    case_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    matter_code: Mapped[str] = mapped_column(String(40))
    matter_name: Mapped[str] = mapped_column(String(200))
    department: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(20))
    promised_days: Mapped[int] = mapped_column(Integer)
    submitted_at: Mapped[datetime] = mapped_column(UtcDateTime())
    due_date: Mapped[date] = mapped_column(Date)
    yellow_at: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20))


class Review(SupervisionBase):
    """A good/bad review (好差评) of a case; one per case."""

    __tablename__ = "reviews"
    __table_args__ = (Index("ix_reviews_recent", "submitted_at", "id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(36), unique=True)
    rating: Mapped[int] = mapped_column(Integer)
    grade: Mapped[str] = mapped_column(String(10))
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    channel: Mapped[str] = mapped_column(String(32))
    submitted_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Metric(SupervisionBase):
    """A counter, e.g. dimension "licenses_issued_by_type", key "birth-certificate"."""

    __tablename__ = "metrics"

    dimension: Mapped[str] = mapped_column(String(50), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)


outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
idempotency = idempotency_table(metadata)
