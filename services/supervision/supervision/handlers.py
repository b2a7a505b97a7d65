"""Events the supervision service consumes: intake's case events for timelines and
deadlines, and other services' activity to count."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from supervision import metrics, timelines
from yiwang_platform.consumer import Handler
from yiwang_platform.events import CloudEvent


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


CASE_TOPIC = "intake.case.v1"

# event type -> (topic, handler)
HANDLERS: dict[str, tuple[str, Handler]] = {
    "gov.intake.case.submitted.v1": (CASE_TOPIC, timelines.on_submitted),
    "gov.intake.case.accepted.v1": (CASE_TOPIC, timelines.on_accepted),
    "gov.intake.case.refused.v1": (CASE_TOPIC, timelines.on_refused),
    "gov.intake.case.suspended.v1": (CASE_TOPIC, timelines.on_suspended),
    "gov.intake.case.resumed.v1": (CASE_TOPIC, timelines.on_resumed),
    "gov.intake.case.supplemented.v1": (CASE_TOPIC, timelines.on_supplemented),
    "gov.intake.subcase.routed.v1": (CASE_TOPIC, timelines.on_subcase_routed),
    "gov.intake.subcase.decided.v1": (CASE_TOPIC, timelines.on_subcase_decided),
    "gov.intake.case.completed.v1": (CASE_TOPIC, timelines.on_completed),
    "gov.license.license.issued.v1": ("license.license.v1", on_license_issued),
    "gov.license.license.revoked.v1": ("license.license.v1", timelines.on_license_revoked),
    "gov.data-exchange.record.upserted.v1": (
        "data-exchange.record.v1",
        on_exchange_record_upserted,
    ),
    "gov.gateway.access.recorded.v1": ("gateway.access.v1", on_gateway_access_recorded),
    "gov.data-exchange.access.recorded.v1": (
        "data-exchange.access.v1",
        on_exchange_access_recorded,
    ),
}
