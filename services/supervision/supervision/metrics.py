"""Counters fed by other services' events, updated in the consuming transaction."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from supervision.models import Metric

LICENSES_ISSUED = "licenses_issued_by_type"
LICENSES_REVOKED = "licenses_revoked_by_type"
# Revocations of licenses no watched case yielded (issued outside a case, or the case
# is not known here), by type.
LICENSES_REVOKED_UNLINKED = "licenses_revoked_unlinked_by_type"
EXCHANGE_RECORDS = "exchange_records_by_library"
GATEWAY_ACCESSES = "gateway_accesses_by_service_status"
DATA_ACCESSES = "data_accesses_by_scenario"


async def increment(session: AsyncSession, dimension: str, *, key: str) -> None:
    # An upsert, so replicas consuming different partitions never race on a new row.
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(Metric).values(dimension=dimension, key=key, count=1)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[Metric.dimension, Metric.key], set_={"count": Metric.count + 1}
        )
    )


async def counters(session: AsyncSession) -> dict[str, dict[str, int]]:
    rows = await session.execute(
        select(Metric.dimension, Metric.key, Metric.count).order_by(Metric.dimension, Metric.key)
    )
    result: dict[str, dict[str, int]] = {}
    for dimension, key, count in rows:
        result.setdefault(dimension, {})[key] = count
    return result
