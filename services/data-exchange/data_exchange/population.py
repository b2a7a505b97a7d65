"""The population library (人口库): idempotent upserts of county records, shared by the
Kafka consumer and the batch endpoint, and the masked listing in record order."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from data_exchange import access_audit
from data_exchange.batches import (
    Answer,
    Outcome,
    Prepared,
    Upserted,
    describe,
    not_newer,
    push,
    stamp_and_announce,
)
from data_exchange.events import CountyPopulationRecord
from data_exchange.faces import FaceMatcher, FaceMatcherUnavailable
from data_exchange.identifiers import InvalidRecord, checked_id_number, checked_resident_id
from data_exchange.models import PopulationRecord
from data_exchange.reference_faces import encode_reference, face_matcher_unavailable
from data_exchange.schemas import PopulationBatch
from yiwang_platform.idempotency import Idempotency
from yiwang_platform.internal_token import InternalPrincipal
from yiwang_platform.outbox import Outbox
from yiwang_platform.pagination import decode_id, encode_key
from yiwang_platform.pii import PiiCipher


def parse(data: Any) -> CountyPopulationRecord:
    if not isinstance(data, dict):
        raise InvalidRecord("(record): not a JSON object")
    try:
        return CountyPopulationRecord.model_validate(data)
    except ValidationError as exc:
        raise InvalidRecord(describe(exc)) from exc


async def upsert(
    session: AsyncSession,
    outbox: Outbox,
    *,
    cipher: PiiCipher,
    record: CountyPopulationRecord,
    face_encoding: str | None = None,
) -> Upserted:
    """Create or update the subject's record in the caller's transaction.

    A version not newer than the stored one from the same source changes nothing
    (``unchanged`` when equal, ``stale`` when older). A record from another source
    replaces the stored one (the person moved county).
    Each effective change adds a RecordUpserted event. Raises InvalidRecord.
    ``face_encoding``: the stored form of the record's reference face
    (reference_faces.encode_reference); None keeps the stored one.
    """
    id_number = checked_id_number(record.id_number, record.birth_date)
    id_index = cipher.blind_index(id_number)
    spouse = (
        checked_resident_id(record.spouse_id_number, "spouse_id_number")
        if record.spouse_id_number
        else None
    )
    if spouse == id_number:
        raise InvalidRecord("spouse_id_number: is the person's own")
    if spouse and record.marital_status != "已婚":
        raise InvalidRecord("spouse_id_number: only with marital_status 已婚")
    # Locks the row on PostgreSQL so concurrent upserts of one person compare versions in turn.
    current = await session.scalar(
        select(PopulationRecord).where(PopulationRecord.id_index == id_index).with_for_update()
    )
    kept = not_newer(current, record)
    if kept is not None:
        return kept

    outcome: Outcome = "created" if current is None else "updated"
    row = current or PopulationRecord(record_id=str(uuid.uuid4()), id_index=id_index)
    row.id_number = cipher.encrypt(id_number)
    row.name = cipher.encrypt(record.name)
    row.sex = record.sex
    row.ethnicity = record.ethnicity
    row.birth_date = record.birth_date
    row.household_address = (
        cipher.encrypt(record.household_address) if record.household_address else None
    )
    row.marital_status = record.marital_status
    row.household_number = record.household_number
    row.spouse_id_number = cipher.encrypt(spouse) if spouse else None
    row.spouse_index = cipher.blind_index(spouse) if spouse else None
    if face_encoding is not None:
        row.face_encoding = face_encoding
    await stamp_and_announce(session, outbox, row=row, library="population", record=record)
    return Upserted(outcome, row.record_id)


async def upsert_received(
    *, session: AsyncSession, outbox: Outbox, cipher: PiiCipher, matcher: FaceMatcher, data: Any
) -> Upserted:
    """A record a county system published: parsed, its reference face encoded, upserted.
    Raises InvalidRecord; FaceMatcherUnavailable propagates (the event is retried)."""
    record = parse(data)
    face = await encode_reference(matcher=matcher, cipher=cipher, record=record)
    return await upsert(session, outbox, cipher=cipher, record=record, face_encoding=face)


async def prepare_batch(
    *, matcher: FaceMatcher, cipher: PiiCipher, records: list[Any]
) -> list[Prepared[CountyPopulationRecord]]:
    """Parse each record and encode its reference face, before any transaction opens:
    encoding takes a fraction of a second per photo, too long to hold row locks for.
    FaceMatcherUnavailable propagates (nothing is applied then)."""
    prepared: list[Prepared[CountyPopulationRecord]] = []
    for data in records:
        try:
            record = parse(data)
            face = await encode_reference(matcher=matcher, cipher=cipher, record=record)
        except InvalidRecord as exc:
            prepared.append(Prepared(None, reason=str(exc)))
            continue
        prepared.append(Prepared(record, face_encoding=face))
    return prepared


async def push_batch(
    *,
    session: AsyncSession,
    outbox: Outbox,
    idempotency: Idempotency,
    principal: InternalPrincipal,
    cipher: PiiCipher,
    matcher: FaceMatcher,
    batch: PopulationBatch,
) -> Answer:
    """A county batch, each record on its own; every applied record is logged under the
    person it is about. Reference faces are encoded before the transaction, so no row
    is locked meanwhile."""
    try:
        prepared = await prepare_batch(matcher=matcher, cipher=cipher, records=batch.records)
    except FaceMatcherUnavailable as exc:
        raise face_matcher_unavailable() from exc

    async def upsert_one(item: Prepared[CountyPopulationRecord]) -> Upserted:
        assert item.record is not None
        return await upsert(
            session, outbox, cipher=cipher, record=item.record, face_encoding=item.face_encoding
        )

    async def subjects(record_ids: set[str]) -> dict[str, list[str]]:
        return await access_audit.population_subjects(session, record_ids)

    return await push(
        session,
        idempotency,
        outbox=outbox,
        principal=principal,
        cipher=cipher,
        library="population",
        records=batch.records,
        prepared=prepared,
        upsert=upsert_one,
        subjects=subjects,
    )


async def listing(
    *,
    session: AsyncSession,
    outbox: Outbox,
    principal: InternalPrincipal,
    cursor: str | None,
    limit: int,
) -> tuple[list[PopulationRecord], str | None]:
    """Records in record order after ``cursor`` and the next page's cursor; each person
    listed is logged as read (masked fields)."""
    query = select(PopulationRecord).order_by(PopulationRecord.record_id).limit(limit)
    after = decode_id(cursor)
    if after:
        query = query.where(PopulationRecord.record_id > after)
    rows = list((await session.scalars(query)).all())
    await access_audit.record_accesses(
        session,
        principal,
        outbox=outbox,
        accesses=[
            access_audit.Accessed(r.id_index, access_audit.LISTED_FIELDS, "read") for r in rows
        ],
    )
    return rows, encode_key(rows[-1].record_id) if len(rows) == limit else None
