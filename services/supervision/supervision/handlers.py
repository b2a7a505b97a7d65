"""Events the supervision service consumes: submitted cases to watch, and other
services' activity to count."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from supervision import metrics, watches
from yiwang_platform.consumer import Handler, RejectEvent
from yiwang_platform.events import CloudEvent


def _timestamp(data: dict[str, Any], field: str) -> datetime:
    # The schema checks the format; the zone is checked here (RFC 3339 requires one).
    try:
        value = datetime.fromisoformat(data[field])
    except (TypeError, ValueError) as exc:
        raise RejectEvent(f"{field} is not an RFC 3339 timestamp") from exc
    if value.tzinfo is None:
        raise RejectEvent(f"{field} has no time zone")
    return value


async def on_case_submitted(session: AsyncSession, event: CloudEvent) -> None:
    data = event.data
    await watches.watch(
        session,
        case_id=data["case_id"],
        matter_code=data["matter_code"],
        matter_name=data["matter_name"],
        department=data["department"],
        channel=data["channel"],
        promised_days=data["promised_days"],
        submitted_at=_timestamp(data, "submitted_at"),
    )


async def on_license_issued(session: AsyncSession, event: CloudEvent) -> None:
    await metrics.increment(session, metrics.LICENSES_ISSUED, event.data["license_type"])


async def on_exchange_record_upserted(session: AsyncSession, event: CloudEvent) -> None:
    await metrics.increment(session, metrics.EXCHANGE_RECORDS, event.data["library"])


async def on_gateway_access_recorded(session: AsyncSession, event: CloudEvent) -> None:
    data = event.data
    status_class = f"{int(data['status']) // 100}xx"
    await metrics.increment(session, metrics.GATEWAY_ACCESSES, f"{data['service']}:{status_class}")


async def on_exchange_access_recorded(session: AsyncSession, event: CloudEvent) -> None:
    """A read or write of someone's data in a library, counted by scenario (none: "-")."""
    await metrics.increment(session, metrics.DATA_ACCESSES, event.data.get("scenario") or "-")


# event type -> (topic, handler)
HANDLERS: dict[str, tuple[str, Handler]] = {
    "gov.intake.case.submitted.v1": ("intake.case.v1", on_case_submitted),
    "gov.license.license.issued.v1": ("license.license.v1", on_license_issued),
    "gov.exchange.record.upserted.v1": ("exchange.record.v1", on_exchange_record_upserted),
    "gov.gateway.access.recorded.v1": ("gateway.access.v1", on_gateway_access_recorded),
    "gov.exchange.access.recorded.v1": ("exchange.access.v1", on_exchange_access_recorded),
}
