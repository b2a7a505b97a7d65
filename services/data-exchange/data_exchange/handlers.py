"""Events data-exchange consumes: county population and legal-person records and
issued and revoked licenses."""

from __future__ import annotations

from data_exchange import legal_persons, license_index, population
from data_exchange.collaborators import Collaborators
from data_exchange.events import (
    CountyLegalPersonRecordIn,
    CountyPopulationRecordIn,
    LicenseIssuedIn,
    LicenseRevokedIn,
)
from data_exchange.identifiers import InvalidRecord
from yiwang_platform.consumer import (
    BatchHandler,
    Delivery,
    EventHandler,
    HandlerContext,
    RejectEvent,
)
from yiwang_platform.events import ConsumedEvent

# A county record runs through the same parser as a batch entry, so a record off the
# contract or with a bad identifier is dead-lettered with the reason a batch gives.


async def on_population_record(ctx: HandlerContext, event: CountyPopulationRecordIn) -> None:
    try:
        # A photo without a single face is rejected (dead-letter topic); a face provider
        # that is down raises FaceMatcherUnavailable and the batch is retried.
        await population.upsert_received(
            session=ctx.session,
            outbox=ctx.outbox,
            cipher=ctx.require_cipher(),
            matcher=ctx.collaborators_as(Collaborators).matcher,
            data=event.model_dump(exclude_unset=True),
        )
    except InvalidRecord as exc:
        raise RejectEvent(str(exc)) from exc


async def on_population_records(ctx: HandlerContext, deliveries: list[Delivery]) -> dict[int, str]:
    """A run of county records (a county's backlog, a bulk load) set-based; the consumer
    has checked each against the contract already."""
    return await population.upsert_received_many(
        session=ctx.session,
        outbox=ctx.outbox,
        cipher=ctx.require_cipher(),
        matcher=ctx.collaborators_as(Collaborators).matcher,
        records=[d.event for d in deliveries],
    )


async def on_legal_person_record(ctx: HandlerContext, event: CountyLegalPersonRecordIn) -> None:
    try:
        await legal_persons.upsert(
            ctx.session,
            ctx.outbox,
            cipher=ctx.require_cipher(),
            record=legal_persons.parse(event.model_dump(exclude_unset=True)),
        )
    except InvalidRecord as exc:
        raise RejectEvent(str(exc)) from exc


async def on_license_issued(ctx: HandlerContext, event: LicenseIssuedIn) -> None:
    await license_index.record_issued(ctx.session, event)


async def on_license_revoked(ctx: HandlerContext, event: LicenseRevokedIn) -> None:
    await license_index.record_revoked(ctx.session, event)


HANDLERS: dict[type[ConsumedEvent], EventHandler] = {
    CountyPopulationRecordIn: on_population_record,
    CountyLegalPersonRecordIn: on_legal_person_record,
    LicenseIssuedIn: on_license_issued,
    LicenseRevokedIn: on_license_revoked,
}
BATCH_HANDLERS: dict[type[ConsumedEvent], BatchHandler] = {
    CountyPopulationRecordIn: on_population_records,
}
