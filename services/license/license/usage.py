"""The usage log (用证记录): who read, showed or verified which license, under which
scenario, and when. Citizens and enterprises are stored as blind indexes, never as
their identifiers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal, cast

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from license.models import LicenseUsage
from license.schemas import UsageRead
from yiwang_platform.internal_token import InternalPrincipal
from yiwang_platform.pagination import Page, decode_key, encode_key
from yiwang_platform.pii import PiiCipher

Action = Literal["read", "present", "verify"]


def reader_of(principal: InternalPrincipal, cipher: PiiCipher) -> str:
    if principal.principal_type in ("citizen", "enterprise"):
        return cipher.blind_index(principal.subject)
    return principal.subject[:200]


async def record(
    session: AsyncSession,
    *,
    cipher: PiiCipher,
    license_id: str,
    action: Action,
    principal: InternalPrincipal,
) -> None:
    """Add an entry to the caller's transaction."""
    session.add(
        LicenseUsage(
            license_id=license_id,
            action=action,
            reader_type=principal.principal_type[:40],
            reader=reader_of(principal, cipher),
            scenario=principal.scenario[:100] if principal.scenario else None,
            at=datetime.now(UTC),
        )
    )
    await session.flush()


async def page(
    session: AsyncSession, *, license_id: str, cursor: str | None, limit: int
) -> Page[UsageRead]:
    query = (
        select(LicenseUsage)
        .where(LicenseUsage.license_id == license_id)
        .order_by(LicenseUsage.id.desc())
        .limit(limit)
    )
    after = decode_key(cursor, int)
    if after is not None:
        query = query.where(LicenseUsage.id < after[0])
    rows = list((await session.scalars(query)).all())
    return Page[UsageRead](
        items=[
            UsageRead(
                action=cast(Action, r.action),
                reader_type=r.reader_type,
                scenario=r.scenario,
                at=r.at,
            )
            for r in rows
        ],
        next_cursor=encode_key(rows[-1].id) if len(rows) == limit else None,
    )
