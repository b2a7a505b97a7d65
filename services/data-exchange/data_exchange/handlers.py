"""Events data-exchange consumes: county population and legal-person records and
issued and revoked licenses."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession

from data_exchange import legal_persons, license_index, population
from data_exchange.events import (
    LICENSE_ISSUED,
    LICENSE_REVOKED,
    LICENSE_TOPIC,
    CountyLegalPersonRecord,
    CountyPopulationRecord,
)
from data_exchange.faces import FaceMatcher
from data_exchange.identifiers import InvalidRecord
from data_exchange.reference_faces import encode_reference
from yiwang_platform.consumer import Handler, RejectEvent
from yiwang_platform.events import CloudEvent
from yiwang_platform.outbox import Outbox
from yiwang_platform.pii import PiiCipher


def build_handlers(
    cipher: Callable[[], PiiCipher],
    outbox: Outbox,
    matcher: Callable[[], FaceMatcher],
) -> dict[str, tuple[str, Handler]]:
    """event type -> (topic, handler). Handlers get only a session and the event, so the
    cipher, the face matcher and the outbox they write to are bound here."""

    async def on_population_record(session: AsyncSession, event: CloudEvent) -> None:
        try:
            record = population.parse(event.data)
            # A photo without a single face is rejected (dead-letter topic); a face
            # provider that is down raises FaceMatcherUnavailable and the batch is retried.
            face = await encode_reference(matcher(), cipher(), record)
            await population.upsert(session, outbox, cipher(), record, face)
        except InvalidRecord as exc:
            raise RejectEvent(str(exc)) from exc

    async def on_legal_person_record(session: AsyncSession, event: CloudEvent) -> None:
        try:
            record = legal_persons.parse(event.data)
            await legal_persons.upsert(session, outbox, cipher(), record)
        except InvalidRecord as exc:
            raise RejectEvent(str(exc)) from exc

    async def on_license_issued(session: AsyncSession, event: CloudEvent) -> None:
        try:
            await license_index.record_issued(session, event.data)
        except InvalidRecord as exc:
            raise RejectEvent(str(exc)) from exc

    async def on_license_revoked(session: AsyncSession, event: CloudEvent) -> None:
        await license_index.record_revoked(session, event.data)

    return {
        CountyPopulationRecord.event_type: (CountyPopulationRecord.topic, on_population_record),
        CountyLegalPersonRecord.event_type: (
            CountyLegalPersonRecord.topic,
            on_legal_person_record,
        ),
        LICENSE_ISSUED: (LICENSE_TOPIC, on_license_issued),
        LICENSE_REVOKED: (LICENSE_TOPIC, on_license_revoked),
    }
