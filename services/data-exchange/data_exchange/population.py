"""The population library (人口库): idempotent upserts of county records, shared by the
Kafka consumer and the batch endpoint, and listing in record order."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from data_exchange.batches import BatchResult, stamp_and_announce
from data_exchange.events import CountyPopulationRecord
from data_exchange.faces import FaceMatcher
from data_exchange.identifiers import InvalidRecord, checked_id_number, checked_resident_id
from data_exchange.models import PopulationRecord
from data_exchange.reference_faces import encode_reference
from yiwang_platform.masking import mask
from yiwang_platform.outbox import Outbox
from yiwang_platform.pii import PiiCipher

# unchanged: the same version again; stale: an older version than the stored one.
Outcome = Literal["created", "updated", "unchanged", "stale"]


@dataclass(frozen=True)
class Upserted:
    outcome: Outcome
    record_id: str


def describe(exc: ValidationError) -> str:
    """Why a record does not match the contract: fields and rules, never the values."""
    parts = [
        f"{'.'.join(str(p) for p in error['loc']) or '(record)'}: {error['msg']}"
        for error in exc.errors()
    ]
    return mask("; ".join(parts))[:500]


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
    if (
        current is not None
        and current.source == record.source
        and record.source_version <= current.source_version
    ):
        older = record.source_version < current.source_version
        return Upserted("stale" if older else "unchanged", current.record_id)

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
    await stamp_and_announce(
        session, outbox, row, "population", record.source, record.source_version
    )
    return Upserted(outcome, row.record_id)


@dataclass(frozen=True)
class Prepared:
    """A batch record checked against the contract, its reference face encoded."""

    record: CountyPopulationRecord | None
    face_encoding: str | None = None
    reason: str | None = None  # why it is rejected (record is None then)


async def prepare_batch(
    matcher: FaceMatcher, cipher: PiiCipher, records: list[Any]
) -> list[Prepared]:
    """Parse each record and encode its reference face, before any transaction opens:
    encoding takes a fraction of a second per photo, too long to hold row locks for.
    FaceMatcherUnavailable propagates (nothing is applied then)."""
    prepared = []
    for data in records:
        try:
            record = parse(data)
            face = await encode_reference(matcher, cipher, record)
        except InvalidRecord as exc:
            prepared.append(Prepared(None, reason=str(exc)))
            continue
        prepared.append(Prepared(record, face))
    return prepared


async def upsert_batch(
    session: AsyncSession, outbox: Outbox, cipher: PiiCipher, records: list[Prepared]
) -> list[BatchResult]:
    """Apply every valid record and report the others, in the caller's transaction.

    A record is checked in full before anything of it is written, so a rejected record
    leaves nothing behind.
    """
    results = []
    for index, item in enumerate(records):
        if item.record is None:
            results.append(BatchResult(index, "rejected", reason=item.reason))
            continue
        try:
            done = await upsert(session, outbox, cipher, item.record, item.face_encoding)
        except InvalidRecord as exc:
            results.append(BatchResult(index, "rejected", reason=str(exc)))
            continue
        results.append(BatchResult(index, done.outcome, done.record_id))
    return results


async def in_record_order(
    session: AsyncSession, after: str | None, limit: int
) -> list[PopulationRecord]:
    query = select(PopulationRecord).order_by(PopulationRecord.record_id).limit(limit)
    if after:
        query = query.where(PopulationRecord.record_id > after)
    return list((await session.scalars(query)).all())
