"""Tables owned by the matters service."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

from yiwang_platform.db import UtcDateTime
from yiwang_platform.idempotency import idempotency_table
from yiwang_platform.outbox import inbox_table, outbox_table


class MattersBase(DeclarativeBase):
    """This service's own metadata: services never share tables."""


metadata = MattersBase.metadata

# Element lists (materials, situations, fees ...) are stored as JSON: they are read
# and published whole with their version, never queried piece by piece.
JsonList = Mapped[list[Any]]


class Version:
    """What every published version has: its code, its number (one per code) and when."""

    @declared_attr.directive
    def __table_args__(cls) -> tuple[UniqueConstraint]:
        return (UniqueConstraint("code", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(40), index=True)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    department: Mapped[str] = mapped_column(String(200))
    published_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Matter(Version, MattersBase):
    """One published version of a matter; the newest version is the current one."""

    __tablename__ = "matters"

    kind: Mapped[str] = mapped_column(String(40))
    promised_days: Mapped[int] = mapped_column(Integer)
    main_item_code: Mapped[str | None] = mapped_column(String(40), index=True)
    main_item_name: Mapped[str | None] = mapped_column(String(200))
    department_credit_code: Mapped[str | None] = mapped_column(String(18))
    service_object: Mapped[str | None] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text, default="")
    keywords: JsonList = mapped_column(JSON, default=list)
    legal_basis: JsonList = mapped_column(JSON, default=list)
    conditions: JsonList = mapped_column(JSON, default=list)
    materials: JsonList = mapped_column(JSON, default=list)
    situations: JsonList = mapped_column(JSON, default=list)
    legal_days: Mapped[int | None] = mapped_column(Integer)
    fees: JsonList = mapped_column(JSON, default=list)
    online_depth: Mapped[str | None] = mapped_column(String(20))
    visits: Mapped[int | None] = mapped_column(Integer)
    cross_province: Mapped[bool] = mapped_column(Boolean, default=False)
    commitment_allowed: Mapped[bool] = mapped_column(Boolean, default=False)
    license_type: Mapped[str | None] = mapped_column(String(64))


class Bundle(Version, MattersBase):
    """One published version of a bundle (一件事)."""

    __tablename__ = "bundles"

    scenario: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text)
    keywords: JsonList = mapped_column(JSON)
    members: JsonList = mapped_column(JSON)
    form: JsonList = mapped_column(JSON)
    flow: JsonList = mapped_column(JSON)
    instructions: Mapped[str] = mapped_column(Text)
    guide: Mapped[dict[str, Any]] = mapped_column(JSON)


outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
idempotency = idempotency_table(metadata)
