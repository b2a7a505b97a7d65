"""The legal-person library (法人库): idempotent upserts of county records of
enterprises and organisations, shared by the Kafka consumer and the batch endpoint."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from data_exchange.batches import BatchResult, stamp_and_announce
from data_exchange.events import CountyLegalPersonRecord
from data_exchange.identifiers import InvalidRecord, checked_resident_id, checked_uscc
from data_exchange.models import LegalPersonRecord
from data_exchange.population import Outcome, Upserted, describe
from yiwang_platform.outbox import Outbox
from yiwang_platform.pii import PiiCipher

# Registration dates are dates in China.
CHINA = ZoneInfo("Asia/Shanghai")


def parse(data: Any) -> CountyLegalPersonRecord:
    if not isinstance(data, dict):
        raise InvalidRecord("(record): not a JSON object")
    try:
        return CountyLegalPersonRecord.model_validate(data)
    except ValidationError as exc:
        raise InvalidRecord(describe(exc)) from exc


def parse_all(records: list[Any]) -> list[CountyLegalPersonRecord | str]:
    """Each record parsed, or the reason it does not match the contract."""
    parsed: list[CountyLegalPersonRecord | str] = []
    for data in records:
        try:
            parsed.append(parse(data))
        except InvalidRecord as exc:
            parsed.append(str(exc))
    return parsed


async def upsert(
    session: AsyncSession, outbox: Outbox, cipher: PiiCipher, record: CountyLegalPersonRecord
) -> Upserted:
    """Create or update the enterprise's record in the caller's transaction.

    Versions compare as in the population library: the same version again is
    ``unchanged``, an older one ``stale``; a record from another source replaces the
    stored one (the enterprise moved). Everything is checked before anything is
    written. Raises InvalidRecord.
    """
    code = checked_uscc(record.uscc)
    representative = checked_resident_id(
        record.legal_representative_id_number, "legal_representative_id_number"
    )
    if record.established_on > datetime.now(CHINA).date():
        raise InvalidRecord("established_on: in the future")
    current = await session.scalar(
        select(LegalPersonRecord).where(LegalPersonRecord.uscc == code).with_for_update()
    )
    if (
        current is not None
        and current.source == record.source
        and record.source_version <= current.source_version
    ):
        older = record.source_version < current.source_version
        return Upserted("stale" if older else "unchanged", current.record_id)

    outcome: Outcome = "created" if current is None else "updated"
    row = current or LegalPersonRecord(record_id=str(uuid.uuid4()), uscc=code)
    row.name = record.name
    row.entity_type = record.entity_type
    row.representative_name = cipher.encrypt(record.legal_representative_name)
    row.representative_id_number = cipher.encrypt(representative)
    row.representative_index = cipher.blind_index(representative)
    row.registered_address = record.registered_address
    row.business_scope = record.business_scope
    row.established_on = record.established_on
    row.status = record.status
    await stamp_and_announce(
        session, outbox, row, "legal_person", record.source, record.source_version
    )
    return Upserted(outcome, row.record_id)


async def upsert_batch(
    session: AsyncSession,
    outbox: Outbox,
    cipher: PiiCipher,
    records: list[CountyLegalPersonRecord | str],
) -> list[BatchResult]:
    """Apply every parsed record and report the others, in the caller's transaction."""
    results = []
    for index, item in enumerate(records):
        if isinstance(item, str):
            results.append(BatchResult(index, "rejected", reason=item))
            continue
        try:
            done = await upsert(session, outbox, cipher, item)
        except InvalidRecord as exc:
            results.append(BatchResult(index, "rejected", reason=str(exc)))
            continue
        results.append(BatchResult(index, done.outcome, done.record_id))
    return results


async def by_code(session: AsyncSession, code: str) -> LegalPersonRecord | None:
    return await session.scalar(select(LegalPersonRecord).where(LegalPersonRecord.uscc == code))


async def represented_by(session: AsyncSession, index: str) -> LegalPersonRecord | None:
    """The enterprise most recently established with this person (blind index) as its
    legal representative: for 企业开办, the one the founder has just registered."""
    return await session.scalar(
        select(LegalPersonRecord)
        .where(LegalPersonRecord.representative_index == index)
        .order_by(LegalPersonRecord.established_on.desc(), LegalPersonRecord.uscc)
        .limit(1)
    )


async def subjects(
    session: AsyncSession, cipher: PiiCipher, record_ids: set[str]
) -> dict[str, list[str]]:
    """record id -> whose data the record holds: the enterprise (its credit code's blind
    index, as license holders are indexed) and its legal representative."""
    rows = await session.execute(
        select(
            LegalPersonRecord.record_id,
            LegalPersonRecord.uscc,
            LegalPersonRecord.representative_index,
        ).where(LegalPersonRecord.record_id.in_(record_ids))
    )
    return {rid: [cipher.blind_index(code), rep] for rid, code, rep in rows}
