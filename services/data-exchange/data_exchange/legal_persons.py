"""The legal-person library (法人库): idempotent upserts of county records of
enterprises and organisations, shared by the Kafka consumer and the batch endpoint, and
the scenario-scoped read and 核验 of the enterprise the caller acts for."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from data_exchange import grants
from data_exchange.access_audit import Accessed, record_accesses
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
from data_exchange.events import CountyLegalPersonRecord
from data_exchange.identifiers import InvalidRecord, checked_resident_id, checked_uscc
from data_exchange.models import LegalPersonRecord
from data_exchange.schemas import LegalPersonBatch
from yiwang_platform.errors import ProblemError
from yiwang_platform.idempotency import Idempotency
from yiwang_platform.internal_token import InternalPrincipal
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


async def upsert(
    session: AsyncSession, outbox: Outbox, *, cipher: PiiCipher, record: CountyLegalPersonRecord
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
    kept = not_newer(current, record)
    if kept is not None:
        return kept

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
    await stamp_and_announce(session, outbox, row=row, library="legal_person", record=record)
    return Upserted(outcome, row.record_id)


async def upsert_received(
    *, session: AsyncSession, outbox: Outbox, cipher: PiiCipher, data: Any
) -> Upserted:
    """A record a county system published, parsed and upserted. Raises InvalidRecord."""
    return await upsert(session, outbox, cipher=cipher, record=parse(data))


async def push_batch(
    *,
    session: AsyncSession,
    outbox: Outbox,
    idempotency: Idempotency,
    principal: InternalPrincipal,
    cipher: PiiCipher,
    batch: LegalPersonBatch,
) -> Answer:
    """A county batch, each record on its own; every applied record is logged under the
    enterprise and its representative."""
    prepared: list[Prepared[CountyLegalPersonRecord]] = []
    for data in batch.records:
        try:
            prepared.append(Prepared(parse(data)))
        except InvalidRecord as exc:
            prepared.append(Prepared(None, reason=str(exc)))

    async def upsert_one(item: Prepared[CountyLegalPersonRecord]) -> Upserted:
        assert item.record is not None
        return await upsert(session, outbox, cipher=cipher, record=item.record)

    async def about(record_ids: set[str]) -> dict[str, list[str]]:
        return await subjects(session, cipher, record_ids=record_ids)

    return await push(
        session,
        idempotency,
        outbox=outbox,
        principal=principal,
        cipher=cipher,
        library="legal_person",
        records=batch.records,
        prepared=prepared,
        upsert=upsert_one,
        subjects=about,
    )


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
    session: AsyncSession, cipher: PiiCipher, *, record_ids: set[str]
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


# ---- scenario-scoped reads and 核验 of the caller's enterprise ----------------------------


def not_found() -> ProblemError:
    return ProblemError(404, "not_found", "资源不存在", "no legal-person record for the subject")


def _readable(fields: list[str]) -> list[str]:
    readable = [f for f in fields if f not in grants.VERIFY_ONLY["legal_person"]]
    if not readable:
        raise ProblemError(
            403,
            "no_grant",
            "当前业务场景未授权读取该数据",
            "the request's scenario grants no readable legal_person fields",
            title_en="No grant for this library",
        )
    return readable


async def _own(
    session: AsyncSession, principal: InternalPrincipal, *, cipher: PiiCipher
) -> tuple[str | None, LegalPersonRecord | None]:
    """The caller's enterprise: the one an enterprise acts for (``org``), or the one a
    citizen founder represents (``self``, 企业开办)."""
    if principal.claims.get("bind") == "self" and principal.principal_type == "citizen":
        row = await represented_by(session, grants.subject_index(principal, cipher, "self"))
        return (row.uscc if row is not None else None), row
    code = grants.org_code(principal)
    return code, await by_code(session, code)


async def own_view(
    *, session: AsyncSession, outbox: Outbox, principal: InternalPrincipal, cipher: PiiCipher
) -> dict[str, Any] | None:
    """The caller's enterprise, granted readable fields only (None: no record)."""
    fields = _readable(grants.granted(principal, "legal_person"))
    code, row = await _own(session, principal, cipher=cipher)
    view = grants.legal_person_view(row, fields, cipher=cipher) if row is not None else None
    await _log(
        session,
        principal,
        outbox=outbox,
        cipher=cipher,
        code=code,
        row=row,
        fields=fields,
        outcome="read" if view is not None else "not_found",
    )
    return view


async def verify_claims(
    *,
    session: AsyncSession,
    outbox: Outbox,
    principal: InternalPrincipal,
    cipher: PiiCipher,
    claims: dict[str, str],
) -> dict[str, bool]:
    """核验 of the enterprise the caller acts for: true/false per claimed field."""
    fields = grants.granted(principal, "legal_person")
    code = grants.org_code(principal)
    row = await by_code(session, code)
    answer = grants.verify_legal_person(row, claims, fields=fields, cipher=cipher)
    await _log(
        session,
        principal,
        outbox=outbox,
        cipher=cipher,
        code=code,
        row=row,
        fields=sorted(claims),
        outcome="verified",
    )
    return answer


async def _log(
    session: AsyncSession,
    principal: InternalPrincipal,
    *,
    outbox: Outbox,
    cipher: PiiCipher,
    code: str | None,
    row: LegalPersonRecord | None,
    fields: list[str],
    outcome: str,
) -> None:
    """One entry for the enterprise; one more for its representative when their name or
    ID number was read or verified (so it shows in their own access log). No enterprise
    found for a founder: the look-up is logged under the founder."""
    names = [f"legal_person.{f}" for f in fields]
    subject = cipher.blind_index(code) if code else grants.subject_index(principal, cipher, "self")
    accesses = [Accessed(subject, names, outcome)]
    personal = [n for n in names if n.startswith("legal_person.legal_representative")]
    if row is not None and personal:
        accesses.append(Accessed(row.representative_index, personal, outcome))
    await record_accesses(session, principal, outbox=outbox, accesses=accesses)
