"""The local copy of the matter catalogue, fed by the matters service's events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
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


async def record_versions(session: AsyncSession, versions: list[dict[str, Any]]) -> None:
    """Keep many published versions (``MatterVersion`` columns each) in one statement;
    versions already known are left as they are."""
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(MatterVersion).on_conflict_do_nothing(
        index_elements=[MatterVersion.code, MatterVersion.version]
    )
    await session.execute(statement, versions)


async def current(session: AsyncSession, code: str) -> MatterVersion | None:
    """The highest known version of a matter, or None when it was never published."""
    return await session.scalar(
        select(MatterVersion)
        .where(MatterVersion.code == code)
        .order_by(MatterVersion.version.desc())
        .limit(1)
    )
