"""Publishing matters: every publication is a new version and an event."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from matters.events import MatterPublished
from matters.models import Matter
from matters.schemas import MatterCreate
from yiwang_platform.outbox import Outbox


async def publish(session: AsyncSession, outbox: Outbox, data: MatterCreate) -> Matter:
    """Publish a new version of a matter and its event in the caller's transaction."""
    current = await session.scalar(select(func.max(Matter.version)).where(Matter.code == data.code))
    matter = Matter(**data.model_dump(), version=(current or 0) + 1, published_at=datetime.now(UTC))
    session.add(matter)
    await session.flush()
    await outbox.add(
        session,
        MatterPublished(
            code=matter.code,
            version=matter.version,
            name=matter.name,
            kind=matter.kind,
            department=matter.department,
            promised_days=matter.promised_days,
            published_at=matter.published_at,
        ),
        key=matter.code,
    )
    return matter


async def current_versions(session: AsyncSession, after: str | None, limit: int) -> list[Matter]:
    latest = (
        select(Matter.code, func.max(Matter.version).label("version"))
        .group_by(Matter.code)
        .subquery()
    )
    query = (
        select(Matter)
        .join(latest, (Matter.code == latest.c.code) & (Matter.version == latest.c.version))
        .order_by(Matter.code)
        .limit(limit)
    )
    if after:
        query = query.where(Matter.code > after)
    return list((await session.scalars(query)).all())


async def current(session: AsyncSession, code: str) -> Matter | None:
    return await session.scalar(
        select(Matter).where(Matter.code == code).order_by(Matter.version.desc()).limit(1)
    )
