"""What the two libraries share: versioned upserts of county records, and county batches
answered record by record (idempotent, retried once on a concurrent writer)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, Literal, Protocol, TypeVar

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from data_exchange import access_audit
from data_exchange.events import RecordUpserted
from data_exchange.identifiers import InvalidRecord
from data_exchange.schemas import BatchResults, BatchSummary, RecordResult
from yiwang_platform.errors import ProblemError
from yiwang_platform.idempotency import Idempotency
from yiwang_platform.internal_token import InternalPrincipal
from yiwang_platform.masking import mask
from yiwang_platform.outbox import Outbox
from yiwang_platform.pii import PiiCipher

T = TypeVar("T")
R = TypeVar("R")

# unchanged: the same version again; stale: an older version than the stored one.
Outcome = Literal["created", "updated", "unchanged", "stale"]
# created and updated are both "accepted": the record's data was written.
Status = Literal["created", "updated", "unchanged", "stale", "rejected"]


@dataclass(frozen=True)
class Upserted:
    outcome: Outcome
    record_id: str


class Versioned(Protocol):
    source: str
    source_version: int


class StoredRow(Protocol):
    record_id: str
    source: str
    source_version: int


def describe(exc: ValidationError) -> str:
    """Why a record does not match the contract: fields and rules, never the values."""
    parts = [
        f"{'.'.join(str(p) for p in error['loc']) or '(record)'}: {error['msg']}"
        for error in exc.errors()
    ]
    return mask("; ".join(parts))[:500]


def not_newer(current: StoredRow | None, record: Versioned) -> Upserted | None:
    """The answer when ``record`` changes nothing: a version not newer than the stored
    one from the same source (``unchanged`` when equal, ``stale`` when older). A record
    from another source replaces the stored one (the subject moved county)."""
    if (
        current is None
        or current.source != record.source
        or record.source_version > current.source_version
    ):
        return None
    older = record.source_version < current.source_version
    return Upserted("stale" if older else "unchanged", current.record_id)


async def stamp_and_announce(
    session: AsyncSession, outbox: Outbox, *, row: Any, library: str, record: Versioned
) -> None:
    """Record the row's source version, write it, and announce it in the same transaction."""
    row.source = record.source
    row.source_version = record.source_version
    row.updated_at = datetime.now(UTC)
    session.add(row)
    await session.flush()
    await outbox.add(
        session,
        RecordUpserted(
            record_id=row.record_id,
            library=library,
            source=row.source,
            source_version=row.source_version,
            upserted_at=row.updated_at,
        ),
        key=row.record_id,
    )


@dataclass(frozen=True)
class BatchResult:
    index: int
    status: Status
    record_id: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class Prepared(Generic[R]):
    """A batch entry checked against the contract (``record``), or why it is rejected."""

    record: R | None
    reason: str | None = None
    face_encoding: str | None = None  # population: its reference face, encoded


async def upsert_each(
    prepared: Sequence[Prepared[R]], upsert: Callable[[Prepared[R]], Awaitable[Upserted]]
) -> list[BatchResult]:
    """Apply every valid entry and report the others, in the caller's transaction. A
    record is checked in full before anything of it is written, so a rejected record
    leaves nothing behind."""
    results = []
    for index, item in enumerate(prepared):
        if item.record is None:
            results.append(BatchResult(index, "rejected", reason=item.reason))
            continue
        try:
            done = await upsert(item)
        except InvalidRecord as exc:
            results.append(BatchResult(index, "rejected", reason=str(exc)))
            continue
        results.append(BatchResult(index, done.outcome, done.record_id))
    return results


def summary(results: Iterable[BatchResult]) -> dict[str, int]:
    """How many records were accepted, unchanged, stale and rejected."""
    counted = Counter(
        "accepted" if r.status in ("created", "updated") else r.status for r in results
    )
    return {k: counted.get(k, 0) for k in ("accepted", "unchanged", "stale", "rejected")}


def batch_answer(done: Sequence[BatchResult]) -> dict[str, Any]:
    """The body of a batch's answer (kept, encrypted, for its Idempotency-Key)."""
    return BatchResults(
        results=[
            RecordResult(index=r.index, status=r.status, record_id=r.record_id, reason=r.reason)
            for r in done
        ],
        summary=BatchSummary(**summary(done)),
    ).model_dump(mode="json", exclude_none=True)


@dataclass(frozen=True)
class Answer:
    """A batch's answer: its status and body, the first time or replayed."""

    status: int
    body: Any


async def push(
    session: AsyncSession,
    idempotency: Idempotency,
    *,
    outbox: Outbox,
    principal: InternalPrincipal,
    cipher: PiiCipher,
    library: str,
    records: list[Any],
    prepared: Sequence[Prepared[R]],
    upsert: Callable[[Prepared[R]], Awaitable[Upserted]],
    subjects: Callable[[set[str]], Awaitable[Mapping[str, Sequence[str]]]],
) -> Answer:
    """A county batch of ``library`` (``records`` as sent, ``prepared`` parsed): every
    valid record upserted, each applied one logged under the people it is about
    (``subjects``: record ids -> blind indexes), answered record by record."""

    async def write() -> dict[str, Any]:
        done = await upsert_each(prepared, upsert)
        about = await subjects({r.record_id for r in done if r.record_id})
        await access_audit.record_batch_writes(
            session,
            principal,
            outbox=outbox,
            library=library,
            records=records,
            results=done,
            subjects=about,
        )
        return batch_answer(done)

    return await apply_once(
        session,
        idempotency,
        caller=principal.subject,
        payload={"records": records},
        cipher=cipher,
        write=write,
    )


async def apply_once(
    session: AsyncSession,
    idempotency: Idempotency,
    *,
    caller: str,
    payload: Any,
    cipher: PiiCipher,
    write: Callable[[], Awaitable[dict[str, Any]]],
) -> Answer:
    """Write a batch in one transaction, or replay the answer to its Idempotency-Key.

    Another writer may have changed one of the batch's records (or stored its
    idempotency key) at the same moment: the whole batch rolls back, and a second try
    sees their change. A second conflict is a 409. The transactions are opened here
    because a retry needs a fresh one."""

    async def attempt() -> Answer:
        async with session.begin():
            prior = await idempotency.replay(session, caller, payload=payload, cipher=cipher)
            if prior is not None:  # per-record answers, not one resource: kept encrypted
                return Answer(prior.status, prior.body)
            body = await write()
            await idempotency.remember(session, 200, body=body)
        return Answer(200, body)

    return await retry_once_on_conflict(attempt)


async def retry_once_on_conflict(apply: Callable[[], Awaitable[T]]) -> T:
    try:
        return await apply()
    except (IntegrityError, StaleDataError):
        pass
    try:
        return await apply()
    except (IntegrityError, StaleDataError) as exc:
        raise ProblemError(
            409, "conflict", "资源冲突", detail="concurrent update of the same records; retry"
        ) from exc
