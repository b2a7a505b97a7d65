"""The local copy of the matter catalogue, fed by the matters service's events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from intake.models import MatterVersion


async def record_version(
    session: AsyncSession,
    *,
    code: str,
    version: int,
    name: str,
    kind: str,
    department: str,
    promised_days: int,
    published_at: datetime,
    elements: dict[str, Any] | None = None,
) -> None:
    """Keep a published version; a version already known is left as it is."""
    known = await session.scalar(
        select(MatterVersion.id).where(MatterVersion.code == code, MatterVersion.version == version)
    )
    if known is not None:
        return
    session.add(
        MatterVersion(
            code=code,
            version=version,
            name=name,
            kind=kind,
            department=department,
            promised_days=promised_days,
            published_at=published_at,
            elements=elements or {},
        )
    )
    await session.flush()


async def current(session: AsyncSession, code: str) -> MatterVersion | None:
    """The highest known version of a matter, or None when it was never published."""
    return await session.scalar(
        select(MatterVersion)
        .where(MatterVersion.code == code)
        .order_by(MatterVersion.version.desc())
        .limit(1)
    )
