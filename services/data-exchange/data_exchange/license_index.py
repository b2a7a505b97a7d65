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

from data_exchange.access_audit import record_access
from data_exchange.events import LicenseEventIn, LicenseIssuedIn, LicenseRevokedIn
from data_exchange.models import LicenseIndexEntry
from yiwang_platform.internal_token import InternalPrincipal
from yiwang_platform.outbox import Outbox
from yiwang_platform.pagination import decode_key, encode_key
from yiwang_platform.pii import PiiCipher

VALID = "valid"
REVOKED = "revoked"
IndexStatus = Literal["valid", "revoked"]
FIELDS = ["license.index"]


def _entry(event: LicenseEventIn, **dates_and_status: Any) -> LicenseIndexEntry:
    return LicenseIndexEntry(
        license_id=event.license_id,
        license_type=event.license_type,
        holder_kind=event.holder_kind,
        holder_index=event.holder_index,
        issuer=event.issuer,
        **dates_and_status,
    )


async def record_issued(session: AsyncSession, event: LicenseIssuedIn) -> bool:
    """Index an issued license; False when it is already indexed (a repeated event)."""
    known = await session.get(LicenseIndexEntry, event.license_id)
    if known is not None:
        if known.status == REVOKED:
            # The revocation came first: keep it revoked, take the real dates.
            known.issued_at = event.issued_at
            known.valid_until = event.valid_until
            await session.flush()
        return False
    session.add(
        _entry(event, issued_at=event.issued_at, valid_until=event.valid_until, status=VALID)
    )
    await session.flush()
    return True


async def record_revoked(session: AsyncSession, event: LicenseRevokedIn) -> bool:
    """Mark a license revoked; False when it was revoked already (a repeated event)."""
    known = await session.get(LicenseIndexEntry, event.license_id)
    if known is None:
        session.add(
            _entry(
                event,
                issued_at=event.revoked_at,  # until its issued event arrives
                valid_until=None,
                status=REVOKED,
                revoked_at=event.revoked_at,
            )
        )
        await session.flush()
        return True
    if known.status == REVOKED:
        return False
    known.status = REVOKED
    known.revoked_at = event.revoked_at
    await session.flush()
    return True


async def listing(
    *,
    session: AsyncSession,
    outbox: Outbox,
    principal: InternalPrincipal,
    cipher: PiiCipher,
    holder_index: str,
    cursor: str | None,
    limit: int,
    status: IndexStatus | None,
    now: datetime,
) -> tuple[list[LicenseIndexEntry], str | None] | None:
    """A holder's licenses after ``cursor`` and the next page's cursor, for staff and for
    the holder themselves; None for anyone else. Either way the look-up is logged."""
    own = principal.principal_type in ("citizen", "enterprise") and (
        holder_index == cipher.blind_index(principal.subject)
    )
    if principal.principal_type != "staff" and not own:
        await record_access(
            session,
            principal,
            outbox=outbox,
            subject_index=holder_index,
            fields=FIELDS,
            outcome="refused",
        )
        return None
    rows = await for_holder(
        session,
        holder_index,
        after=decode_key(cursor, datetime, str),
        limit=limit,
        status=status,
        now=now,
    )
    await record_access(
        session, principal, outbox=outbox, subject_index=holder_index, fields=FIELDS, outcome="read"
    )
    last = rows[-1] if len(rows) == limit else None
    return rows, encode_key(last.issued_at, last.license_id) if last else None


async def for_holder(
    session: AsyncSession,
    holder_index: str,
    *,
    after: tuple[datetime, str] | None,
    limit: int,
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
