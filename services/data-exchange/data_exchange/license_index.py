"""The license library index (证照库): which licenses each holder has, built from the
license service's events. Holders are blind indexes, never identifiers.

Issued and revoked events of one license share its key, so they normally arrive in
order. Should a revocation arrive first (a topic re-created, a replay from a backup),
it is indexed at once as a revoked entry dated by the revocation, and the issued event
that follows fills in its issue and expiry dates without making it valid again:
a revoked license never comes back.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from data_exchange.models import LicenseIndexEntry
from yiwang_platform.consumer import event_time

VALID = "valid"
REVOKED = "revoked"
IndexStatus = Literal["valid", "revoked"]


def _valid_until(data: dict[str, Any]) -> datetime | None:
    value = data.get("valid_until")
    return None if value is None else event_time(value, "valid_until")


async def record_issued(session: AsyncSession, data: dict[str, Any]) -> bool:
    """Index an issued license; False when it is already indexed (a repeated event)."""
    license_id = data["license_id"]
    issued_at = event_time(data["issued_at"], "issued_at")
    valid_until = _valid_until(data)
    known = await session.get(LicenseIndexEntry, license_id)
    if known is not None:
        if known.status == REVOKED:
            # The revocation came first: keep it revoked, take the real dates.
            known.issued_at = issued_at
            known.valid_until = valid_until
            await session.flush()
        return False
    session.add(
        LicenseIndexEntry(
            license_id=license_id,
            license_type=data["license_type"],
            holder_kind=data["holder_kind"],
            holder_index=data["holder_index"],
            issuer=data["issuer"],
            issued_at=issued_at,
            valid_until=valid_until,
            status=VALID,
        )
    )
    await session.flush()
    return True


async def record_revoked(session: AsyncSession, data: dict[str, Any]) -> bool:
    """Mark a license revoked; False when it was revoked already (a repeated event)."""
    license_id = data["license_id"]
    revoked_at = event_time(data["revoked_at"], "revoked_at")
    known = await session.get(LicenseIndexEntry, license_id)
    if known is None:
        session.add(
            LicenseIndexEntry(
                license_id=license_id,
                license_type=data["license_type"],
                holder_kind=data["holder_kind"],
                holder_index=data["holder_index"],
                issuer=data["issuer"],
                issued_at=revoked_at,  # until its issued event arrives
                valid_until=None,
                status=REVOKED,
                revoked_at=revoked_at,
            )
        )
        await session.flush()
        return True
    if known.status == REVOKED:
        return False
    known.status = REVOKED
    known.revoked_at = revoked_at
    await session.flush()
    return True


async def for_holder(
    session: AsyncSession,
    holder_index: str,
    after: tuple[datetime, str] | None,
    limit: int,
    *,
    status: IndexStatus | None = None,
    now: datetime | None = None,
) -> list[LicenseIndexEntry]:
    """The holder's licenses, newest first; ``status="valid"``: only those neither
    revoked nor expired at ``now``, ``"revoked"``: only revoked ones."""
    query = (
        select(LicenseIndexEntry)
        .where(LicenseIndexEntry.holder_index == holder_index)
        .order_by(LicenseIndexEntry.issued_at.desc(), LicenseIndexEntry.license_id.desc())
        .limit(limit)
    )
    if status == VALID:
        query = query.where(LicenseIndexEntry.status == VALID)
        if now is not None:
            query = query.where(
                or_(LicenseIndexEntry.valid_until.is_(None), LicenseIndexEntry.valid_until > now)
            )
    elif status == REVOKED:
        query = query.where(LicenseIndexEntry.status == REVOKED)
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
