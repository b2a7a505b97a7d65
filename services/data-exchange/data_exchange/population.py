"""The population library (人口库): idempotent upserts of county records, shared by the
Kafka consumer and the batch endpoint, and the masked listing in record order."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from pydantic import ValidationError
from sqlalchemy import Table, bindparam, func, insert, select, update
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
from data_exchange.events import CountyPopulationRecord, RecordUpserted
from data_exchange.faces import FaceMatcher, FaceMatcherUnavailable
from data_exchange.identifiers import InvalidRecord, checked_id_number, checked_resident_id
from data_exchange.models import PopulationRecord
from data_exchange.reference_faces import encode_reference, face_matcher_unavailable
from data_exchange.schemas import PopulationBatch
from yiwang_platform.events import EventData
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


@dataclass(frozen=True)
class Checked:
    """A record whose identifiers passed every check, with its blind index."""

    record: CountyPopulationRecord
    id_number: str
    id_index: str
    spouse: str | None


def check(record: CountyPopulationRecord, cipher: PiiCipher) -> Checked:
    """The record's identifiers checked (GB 11643, birth date, spouse). Raises InvalidRecord."""
    id_number = checked_id_number(record.id_number, record.birth_date)
    spouse = (
        checked_resident_id(record.spouse_id_number, "spouse_id_number")
        if record.spouse_id_number
        else None
    )
    if spouse == id_number:
        raise InvalidRecord("spouse_id_number: is the person's own")
    if spouse and record.marital_status != "已婚":
        raise InvalidRecord("spouse_id_number: only with marital_status 已婚")
    return Checked(record, id_number, cipher.blind_index(id_number), spouse)


def stored_fields(checked: Checked, cipher: PiiCipher) -> dict[str, Any]:
    """The row's columns from the record, personal ones encrypted (not the face)."""
    record, spouse = checked.record, checked.spouse
    return {
        "id_number": cipher.encrypt(checked.id_number),
        "name": cipher.encrypt(record.name),
        "sex": record.sex,
        "ethnicity": record.ethnicity,
        "birth_date": record.birth_date,
        "household_address": (
            cipher.encrypt(record.household_address) if record.household_address else None
        ),
        "marital_status": record.marital_status,
        "household_number": record.household_number,
        "spouse_id_number": cipher.encrypt(spouse) if spouse else None,
        "spouse_index": cipher.blind_index(spouse) if spouse else None,
    }


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
    checked = check(record, cipher)
    # Locks the row on PostgreSQL so concurrent upserts of one person compare versions in turn.
    current = await session.scalar(
        select(PopulationRecord)
        .where(PopulationRecord.id_index == checked.id_index)
        .with_for_update()
    )
    kept = not_newer(current, record)
    if kept is not None:
        return kept

    outcome: Outcome = "created" if current is None else "updated"
    row = current or PopulationRecord(record_id=str(uuid.uuid4()), id_index=checked.id_index)
    for column, value in stored_fields(checked, cipher).items():
        setattr(row, column, value)
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


@dataclass
class _Latest:
    """A person's state while a run is folded: what is stored, or what the run wrote."""

    record_id: str
    source: str
    source_version: int
    stored: bool  # the row exists in the table (an update), else it is inserted
    fields: dict[str, Any] | None = None  # the columns to write; None: nothing changed


async def upsert_received_many(
    *,
    session: AsyncSession,
    outbox: Outbox,
    cipher: PiiCipher,
    matcher: FaceMatcher,
    records: Sequence[CountyPopulationRecord],
) -> dict[int, str]:
    """County records in the order they arrived, with the effect of ``upsert_received``
    on each, set-based: one locking read of the people concerned, one multi-row insert,
    one multi-row update and one outbox statement. Returns the refused records by
    position, with the reason; FaceMatcherUnavailable propagates."""
    refused: dict[int, str] = {}
    checked: list[tuple[Checked, str | None]] = []
    for position, record in enumerate(records):
        try:
            item = check(record, cipher)
            face = await encode_reference(matcher=matcher, cipher=cipher, record=record)
        except InvalidRecord as exc:
            refused[position] = str(exc)
            continue
        checked.append((item, face))
    if not checked:
        return refused

    table = cast(Table, PopulationRecord.__table__)
    found = await session.execute(
        select(table.c.record_id, table.c.id_index, table.c.source, table.c.source_version)
        .where(table.c.id_index.in_({item.id_index for item, _ in checked}))
        .with_for_update()
    )
    latest = {
        row.id_index: _Latest(row.record_id, row.source, row.source_version, stored=True)
        for row in found
    }
    now = datetime.now(UTC)
    announced: list[tuple[EventData, str]] = []
    # In arrival order, so two versions of one person in a run compare as they would
    # one after the other; only the last state of each person is written.
    for item, face in checked:
        record = item.record
        state = latest.get(item.id_index)
        if not_newer(state, record) is not None:
            continue
        if state is None:
            state = latest[item.id_index] = _Latest(
                str(uuid.uuid4()), record.source, record.source_version, stored=False
            )
        kept_face = (state.fields or {}).get("face_encoding")
        state.source, state.source_version = record.source, record.source_version
        state.fields = {
            **stored_fields(item, cipher),
            "face_encoding": face if face is not None else kept_face,
            "source": record.source,
            "source_version": record.source_version,
            "updated_at": now,
        }
        announced.append(
            (
                RecordUpserted(
                    record_id=state.record_id,
                    library="population",
                    source=record.source,
                    source_version=record.source_version,
                    upserted_at=now,
                ),
                state.record_id,
            )
        )

    inserts = [
        {**s.fields, "record_id": s.record_id, "id_index": index}
        for index, s in latest.items()
        if s.fields is not None and not s.stored
    ]
    updates = [
        {
            **{k: v for k, v in s.fields.items() if k != "face_encoding"},
            "b_record_id": s.record_id,
            "b_face": s.fields["face_encoding"],
        }
        for s in latest.values()
        if s.fields is not None and s.stored
    ]
    if inserts:
        await session.execute(insert(table), inserts)
    if updates:
        # A record without a reference face keeps the stored one.
        await session.execute(
            update(table)
            .where(table.c.record_id == bindparam("b_record_id"))
            .values(face_encoding=func.coalesce(bindparam("b_face"), table.c.face_encoding)),
            updates,
        )
    await outbox.add_many(session, announced)
    return refused


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
