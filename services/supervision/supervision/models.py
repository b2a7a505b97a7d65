"""Tables owned by the supervision service."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from yiwang_platform.db import UtcDateTime
from yiwang_platform.idempotency import idempotency_table
from yiwang_platform.outbox import inbox_table, outbox_table


class SupervisionBase(DeclarativeBase):
    """This service's own metadata: services never share tables."""


metadata = SupervisionBase.metadata

# Statuses of a case: open (clock running), suspended (补正, clock stopped), completed, refused.
# Of a sub-case: waiting (dependencies unmet, no deadline yet), open, suspended, decided, closed.
RUNNING = "open"
SUSPENDED = "suspended"


class OfMatter:
    """The matter a watched item is about and the department that handles it."""

    matter_code: Mapped[str] = mapped_column(String(40))
    matter_name: Mapped[str] = mapped_column(String(200))
    department: Mapped[str] = mapped_column(String(200))


class CaseWatch(OfMatter, SupervisionBase):
    """A case and its promised deadline: computed from the submission until the case is
    accepted, then the one intake promised (moved when it resumes after 补正)."""

    __tablename__ = "case_watches"
    __table_args__ = (
        Index("ix_case_watches_due", "due_date", "case_id"),
        Index("ix_case_watches_status_due", "status", "due_date"),
    )

    case_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    promised_days: Mapped[int] = mapped_column(Integer)
    submitted_at: Mapped[datetime] = mapped_column(UtcDateTime())
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20))
    applicant_index: Mapped[str | None] = mapped_column(String(64), nullable=True)
    accepted_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(20), nullable=True)


class SupplementWatch(OfMatter, SupervisionBase):
    """容缺受理: the non-key materials a case still lacks and the day they are due by."""

    __tablename__ = "supplement_watches"
    __table_args__ = (Index("ix_supplement_watches_status_due", "status", "due_date"),)

    case_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    due_date: Mapped[date] = mapped_column(Date)
    # open while materials are missing; closed when supplied or the case ends.
    status: Mapped[str] = mapped_column(String(20))
    missing: Mapped[str] = mapped_column(Text)  # JSON list of material codes


class SubcaseWatch(OfMatter, SupervisionBase):
    """One department's part of an accepted case (并联审批) and its own deadline."""

    __tablename__ = "subcase_watches"
    __table_args__ = (
        Index("ix_subcase_watches_case", "case_id"),
        Index("ix_subcase_watches_status_due", "status", "due_date"),
    )

    subcase_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(36))
    promised_days: Mapped[int] = mapped_column(Integer)
    depends_on: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of subcase ids
    due_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    status: Mapped[str] = mapped_column(String(20))
    decision: Mapped[str | None] = mapped_column(String(20), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class TimelineEntry(SupervisionBase):
    """One step of a case (``subcase_id`` empty) or of one of its sub-cases, in arrival
    order: one case's events share a partition key, so they arrive in order."""

    __tablename__ = "timeline_entries"
    __table_args__ = (Index("ix_timeline_entries_case", "case_id", "id"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    case_id: Mapped[str] = mapped_column(String(36))
    subcase_id: Mapped[str | None] = mapped_column(String(80), nullable=True)
    event_id: Mapped[str] = mapped_column(String(100))
    event_type: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    summary: Mapped[str] = mapped_column(Text)


class Review(SupervisionBase):
    """A good/bad review (好差评) of a completed case; one per case and channel."""

    __tablename__ = "reviews"
    __table_args__ = (
        UniqueConstraint("case_id", "channel", name="uq_reviews_case_channel"),
        Index("ix_reviews_recent", "submitted_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(36))
    rating: Mapped[int] = mapped_column(Integer)
    grade: Mapped[str] = mapped_column(String(10))
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    channel: Mapped[str] = mapped_column(String(32))
    submitted_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ReviewHandling(OfMatter, SupervisionBase):
    """差评整改: a bad review the case's department must handle by ``due_date``."""

    __tablename__ = "review_handlings"
    __table_args__ = (Index("ix_review_handlings_status_due", "status", "due_date", "id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    review_id: Mapped[str] = mapped_column(String(36), unique=True)
    case_id: Mapped[str] = mapped_column(String(36))
    rating: Mapped[int] = mapped_column(Integer)
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime())
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10))  # open, closed
    resolution_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    resolved_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class Metric(SupervisionBase):
    """A counter, e.g. dimension "licenses_issued_by_type", key "birth-certificate"."""

    __tablename__ = "metrics"

    dimension: Mapped[str] = mapped_column(String(50), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)


outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
idempotency = idempotency_table(metadata)
