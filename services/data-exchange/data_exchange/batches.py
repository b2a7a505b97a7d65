"""Per-record outcomes of a county batch, shared by the libraries' batch endpoints."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from data_exchange.events import RecordUpserted
from yiwang_platform.errors import ProblemError
from yiwang_platform.outbox import Outbox

T = TypeVar("T")

# created and updated are both "accepted": the record's data was written.
Status = Literal["created", "updated", "unchanged", "stale", "rejected"]


@dataclass(frozen=True)
class BatchResult:
    index: int
    status: Status
    record_id: str | None = None
    reason: str | None = None


def summary(results: Iterable[BatchResult]) -> dict[str, int]:
    """How many records were accepted, unchanged, stale and rejected."""
    counted = Counter(
        "accepted" if r.status in ("created", "updated") else r.status for r in results
    )
    return {k: counted.get(k, 0) for k in ("accepted", "unchanged", "stale", "rejected")}


async def stamp_and_announce(
    session: AsyncSession, outbox: Outbox, row: Any, library: str, source: str, version: int
) -> None:
    """Record the row's source version, write it, and announce it in the same transaction."""
    row.source = source
    row.source_version = version
    row.updated_at = datetime.now(UTC)
    session.add(row)
    await session.flush()
    await outbox.add(
        session,
        RecordUpserted(
            record_id=row.record_id,
            library=library,
            source=row.source,
            source_version=row.source_version,
            upserted_at=row.updated_at,
        ),
        key=row.record_id,
    )


async def retry_once_on_conflict(apply: Callable[[], Awaitable[T]]) -> T:
    """Another writer may have changed one of the batch's records (or stored its
    idempotency key) at the same moment: the whole batch rolled back, and a second try
    sees their change. A second conflict is a 409."""
    try:
        return await apply()
    except (IntegrityError, StaleDataError):
        pass
    try:
        return await apply()
    except (IntegrityError, StaleDataError) as exc:
        raise ProblemError(
            409, "conflict", "资源冲突", detail="concurrent update of the same records; retry"
        ) from exc
