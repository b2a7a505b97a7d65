"""Events the supervision service consumes: intake's case events for timelines and
deadlines, and other services' activity to count."""

from __future__ import annotations

from supervision import metrics, timelines
from supervision.events import (
    DataExchangeAccessRecordedIn,
    DataExchangeRecordUpsertedIn,
    GatewayAccessRecordedIn,
    LicenseIssuedIn,
)
from yiwang_platform.consumer import EventHandler, HandlerContext
from yiwang_platform.events import ConsumedEvent


async def on_timeline_event(ctx: HandlerContext, event: ConsumedEvent) -> None:
    """One of intake's case events, or a license revoked: on its case's timeline."""
    await timelines.record(ctx.session, event, event_id=ctx.envelope.id)


async def on_license_issued(ctx: HandlerContext, event: LicenseIssuedIn) -> None:
    await metrics.increment(ctx.session, metrics.LICENSES_ISSUED, key=event.license_type)


async def on_data_exchange_record_upserted(
    ctx: HandlerContext, event: DataExchangeRecordUpsertedIn
) -> None:
    await metrics.increment(ctx.session, metrics.EXCHANGE_RECORDS, key=event.library)


async def on_gateway_access_recorded(ctx: HandlerContext, event: GatewayAccessRecordedIn) -> None:
    key = f"{event.service}:{event.status // 100}xx"
    await metrics.increment(ctx.session, metrics.GATEWAY_ACCESSES, key=key)


async def on_data_exchange_access_recorded(
    ctx: HandlerContext, event: DataExchangeAccessRecordedIn
) -> None:
    """A read or write of someone's data in a library, counted by scenario (none: "-")."""
    await metrics.increment(ctx.session, metrics.DATA_ACCESSES, key=event.scenario or "-")


HANDLERS: dict[type[ConsumedEvent], EventHandler] = {
    **dict.fromkeys(timelines.RECORDERS, on_timeline_event),
    LicenseIssuedIn: on_license_issued,
    DataExchangeRecordUpsertedIn: on_data_exchange_record_upserted,
    GatewayAccessRecordedIn: on_gateway_access_recorded,
    DataExchangeAccessRecordedIn: on_data_exchange_access_recorded,
}
