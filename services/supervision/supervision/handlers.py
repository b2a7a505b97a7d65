"""Events the supervision service consumes: intake's case events for timelines and
deadlines, and other services' activity to count."""

from __future__ import annotations

from supervision import metrics, timelines
from supervision.events import (
    CaseAcceptedIn,
    CaseCompletedIn,
    CaseRefusedIn,
    CaseResumedIn,
    CaseSubmittedIn,
    CaseSupplementedIn,
    CaseSuspendedIn,
    ExchangeAccessRecordedIn,
    ExchangeRecordUpsertedIn,
    GatewayAccessRecordedIn,
    LicenseIssuedIn,
    LicenseRevokedIn,
    SubCaseDecidedIn,
    SubCaseRoutedIn,
)
from yiwang_platform.consumer import EventHandler, HandlerContext
from yiwang_platform.events import ConsumedEvent


async def on_case_submitted(ctx: HandlerContext, event: CaseSubmittedIn) -> None:
    await timelines.record_submitted(ctx.session, event, event_id=ctx.envelope.id)


async def on_case_accepted(ctx: HandlerContext, event: CaseAcceptedIn) -> None:
    await timelines.record_accepted(ctx.session, event, event_id=ctx.envelope.id)


async def on_case_refused(ctx: HandlerContext, event: CaseRefusedIn) -> None:
    await timelines.record_refused(ctx.session, event, event_id=ctx.envelope.id)


async def on_case_suspended(ctx: HandlerContext, event: CaseSuspendedIn) -> None:
    await timelines.record_suspended(ctx.session, event, event_id=ctx.envelope.id)


async def on_case_resumed(ctx: HandlerContext, event: CaseResumedIn) -> None:
    await timelines.record_resumed(ctx.session, event, event_id=ctx.envelope.id)


async def on_case_supplemented(ctx: HandlerContext, event: CaseSupplementedIn) -> None:
    await timelines.record_supplemented(ctx.session, event, event_id=ctx.envelope.id)


async def on_subcase_routed(ctx: HandlerContext, event: SubCaseRoutedIn) -> None:
    await timelines.record_routed(ctx.session, event, event_id=ctx.envelope.id)


async def on_subcase_decided(ctx: HandlerContext, event: SubCaseDecidedIn) -> None:
    await timelines.record_decided(ctx.session, event, event_id=ctx.envelope.id)


async def on_case_completed(ctx: HandlerContext, event: CaseCompletedIn) -> None:
    await timelines.record_completed(ctx.session, event, event_id=ctx.envelope.id)


async def on_license_issued(ctx: HandlerContext, event: LicenseIssuedIn) -> None:
    await metrics.increment(ctx.session, metrics.LICENSES_ISSUED, key=event.license_type)


async def on_license_revoked(ctx: HandlerContext, event: LicenseRevokedIn) -> None:
    await timelines.record_revoked(ctx.session, event, event_id=ctx.envelope.id)


async def on_exchange_record_upserted(ctx: HandlerContext, event: ExchangeRecordUpsertedIn) -> None:
    await metrics.increment(ctx.session, metrics.EXCHANGE_RECORDS, key=event.library)


async def on_gateway_access_recorded(ctx: HandlerContext, event: GatewayAccessRecordedIn) -> None:
    key = f"{event.service}:{event.status // 100}xx"
    await metrics.increment(ctx.session, metrics.GATEWAY_ACCESSES, key=key)


async def on_exchange_access_recorded(ctx: HandlerContext, event: ExchangeAccessRecordedIn) -> None:
    """A read or write of someone's data in a library, counted by scenario (none: "-")."""
    await metrics.increment(ctx.session, metrics.DATA_ACCESSES, key=event.scenario or "-")


HANDLERS: dict[type[ConsumedEvent], EventHandler] = {
    CaseSubmittedIn: on_case_submitted,
    CaseAcceptedIn: on_case_accepted,
    CaseRefusedIn: on_case_refused,
    CaseSuspendedIn: on_case_suspended,
    CaseResumedIn: on_case_resumed,
    CaseSupplementedIn: on_case_supplemented,
    SubCaseRoutedIn: on_subcase_routed,
    SubCaseDecidedIn: on_subcase_decided,
    CaseCompletedIn: on_case_completed,
    LicenseIssuedIn: on_license_issued,
    LicenseRevokedIn: on_license_revoked,
    ExchangeRecordUpsertedIn: on_exchange_record_upserted,
    GatewayAccessRecordedIn: on_gateway_access_recorded,
    ExchangeAccessRecordedIn: on_exchange_access_recorded,
}
