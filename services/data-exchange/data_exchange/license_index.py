"""The license library index (证照库): which licenses each holder has, built from the
license service's events. Holders are blind indexes, never identifiers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from data_exchange.models import LicenseIndexEntry
from yiwang_platform.consumer import event_time


async def record_issued(session: AsyncSession, data: dict[str, Any]) -> bool:
    """Index an issued license; False when it is already indexed (a repeated event)."""
    license_id = data["license_id"]
    if await session.get(LicenseIndexEntry, license_id) is not None:
        return False
    valid_until = data.get("valid_until")
    session.add(
        LicenseIndexEntry(
            license_id=license_id,
            license_type=data["license_type"],
            holder_kind=data["holder_kind"],
            holder_index=data["holder_index"],
            issuer=data["issuer"],
            issued_at=event_time(data["issued_at"], "issued_at"),
            valid_until=None if valid_until is None else event_time(valid_until, "valid_until"),
        )
    )
    await session.flush()
    return True


async def for_holder(
    session: AsyncSession, holder_index: str, after: tuple[datetime, str] | None, limit: int
) -> list[LicenseIndexEntry]:
    """The holder's licenses, newest first."""
    query = (
        select(LicenseIndexEntry)
        .where(LicenseIndexEntry.holder_index == holder_index)
        .order_by(LicenseIndexEntry.issued_at.desc(), LicenseIndexEntry.license_id.desc())
        .limit(limit)
    )
    if after is not None:
        issued_at, license_id = after
        query = query.where(
            or_(
                LicenseIndexEntry.issued_at < issued_at,
                and_(
                    LicenseIndexEntry.issued_at == issued_at,
                    LicenseIndexEntry.license_id < license_id,
                ),
            )
        )
    return list((await session.scalars(query)).all())
