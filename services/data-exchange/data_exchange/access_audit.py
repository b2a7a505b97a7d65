"""The data-library access log (调用留痕 of the libraries): every read, 核验 and write of a
person's data appends an entry to the hash-chained ``access_log`` and publishes it as
``gov.data-exchange.access.recorded.v1`` (key: the person's blind index), in one transaction.

Domain code that reads or writes a person's data calls, in the transaction of the read::

    await record_access(session, principal, outbox=outbox, subject_index=subject_index,
                        fields=["population.name"], outcome="read")

``subject_index`` is the person's blind index (``cipher.blind_index(id_number)``, the
``id_index`` of their record, ``bind_subject_index`` of a case binding); ``fields``
are ``library.field`` names (``population.name``, ``license.index``); ``outcome``
says what happened (``read``, ``verified``, ``created``, ``refused``, ``not_found``).
It only adds to the caller's transaction, which the route commits before it answers:
the answer must not leave before its log entry is stored.

Entries never hold an identifier in clear: the accessor's subject is masked (with its
blind index beside it), the person is a blind index. Citizens read the entries about
themselves through ``GET /api/v1/data-exchange/access-log/mine``.

``python -m data_exchange.access_audit verify`` walks the chain, checks it against its
signed checkpoints (``yiwang_platform.audit_checkpoints``, published at
``/api/v1/data-exchange/audit/checkpoints``) and exits 1 when it finds a tampered entry (see
``gateway.audit`` for the output).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from data_exchange.events import DataAccessRecorded
from data_exchange.models import PopulationRecord, access_log, access_log_checkpoints
from data_exchange.settings import Settings
from yiwang_platform.audit_chain import append, chain_key
from yiwang_platform.audit_checkpoints import verify_command
from yiwang_platform.deps import SessionDep
from yiwang_platform.internal_token import InternalPrincipal
from yiwang_platform.masking import mask
from yiwang_platform.outbox import Outbox
from yiwang_platform.pagination import decode_key, encode_key
from yiwang_platform.pii import PiiCipher
from yiwang_platform.settings import ServiceSettings
from yiwang_platform.tracing import current_trace_id

# Session info holding the chain's HMAC key (set on the app's session factory at start).
KEY_INFO = "audit_chain_key"


@dataclass(frozen=True)
class Accessed:
    subject_index: str | None
    fields: Sequence[str]
    outcome: str


def configure(sessions: async_sessionmaker[AsyncSession], settings: ServiceSettings) -> None:
    """Give the app's sessions the chain key (``YIWANG_AUDIT_CHAIN_KEY``, see ``chain_key``)."""
    sessions.configure(info={KEY_INFO: chain_key(settings)})


# The dependencies of the checkpoint routes (api/routes/audit.py).


async def session_chain_key(session: SessionDep) -> bytes | None:
    """The log's HMAC key, as ``configure`` gave it to the app's sessions."""
    key: bytes | None = session.info.get(KEY_INFO)
    return key


def entry_of(principal: InternalPrincipal, accessed: Accessed, *, at: datetime) -> dict[str, Any]:
    claims = principal.claims
    return {
        "kind": "data-exchange.access",
        "at": at.isoformat(),
        "accessor_type": principal.principal_type,
        "accessor": mask(principal.subject),
        # Staff: their department, and for a window case how the applicant was present.
        "accessor_department": claims.get("dept") or None,
        "presence": claims.get("bind_presence") or None,
        "key_id": claims.get("kid_of_caller") or None,
        "scenario": principal.scenario,
        "purpose": claims.get("purpose") or principal.scenario,
        "case_id": claims.get("bind_case_id"),
        "subject_index": accessed.subject_index,
        "fields": sorted(set(accessed.fields)),
        "outcome": accessed.outcome,
        "trace_id": current_trace_id(),
    }


async def record_accesses(
    session: AsyncSession,
    principal: InternalPrincipal,
    *,
    outbox: Outbox,
    accesses: Iterable[Accessed],
) -> None:
    """Append one entry per access (in order) and its event, in the session's transaction."""
    at = datetime.now(UTC)
    entries = [entry_of(principal, a, at=at) for a in accesses]
    if not entries:
        return
    key = session.info.get(KEY_INFO)
    appended = await append(session, access_log, entries=entries, key=key, at=at)
    for entry, done in zip(entries, appended, strict=True):
        await outbox.add(
            session,
            DataAccessRecorded(
                seq=done.seq,
                hash=done.hash,
                at=at,
                accessor_type=entry["accessor_type"],
                accessor=entry["accessor"],
                key_id=entry["key_id"],
                scenario=entry["scenario"],
                subject_index=entry["subject_index"],
                fields=entry["fields"],
                outcome=entry["outcome"],
                trace_id=entry["trace_id"],
            ),
            key=entry["subject_index"] or f"seq-{done.seq}",
        )


async def record_access(
    session: AsyncSession,
    principal: InternalPrincipal,
    *,
    outbox: Outbox,
    subject_index: str | None,
    fields: Iterable[str],
    outcome: str,
) -> None:
    """Log one access to ``subject_index``'s data by ``principal`` (see the module doc)."""
    await record_accesses(
        session,
        principal,
        outbox=outbox,
        accesses=[Accessed(subject_index, tuple(fields), outcome)],
    )


# What the masked population listing shows of each person.
LISTED_FIELDS = tuple(
    f"population.{name}"
    for name in ("id_number", "name", "sex", "ethnicity", "birth_date", "marital_status")
)
_NOT_FIELDS = {"source", "source_version"}


async def population_subjects(session: AsyncSession, record_ids: set[str]) -> dict[str, list[str]]:
    """record id -> the blind index of the person it is about."""
    rows = await session.execute(
        select(PopulationRecord.record_id, PopulationRecord.id_index).where(
            PopulationRecord.record_id.in_(record_ids)
        )
    )
    return {record_id: [id_index] for record_id, id_index in rows}


async def record_batch_writes(
    session: AsyncSession,
    principal: InternalPrincipal,
    *,
    outbox: Outbox,
    library: str,
    records: Sequence[Any],
    results: Iterable[Any],
    subjects: Mapping[str, Sequence[str]],
) -> None:
    """Log the records of a county batch that were applied (created, updated, unchanged
    or stale), in the batch's transaction: one entry per subject the record is about
    (``subjects``: record id -> blind indexes). ``results`` have ``index``, ``status``
    and ``record_id`` (``batches.BatchResult``); rejected records name no one."""
    accesses: list[Accessed] = []
    for r in results:
        if r.record_id is None:
            continue
        data = records[r.index] if r.index < len(records) else {}
        given = data if isinstance(data, dict) else {}
        names = [f"{library}.{k}" for k in given if k not in _NOT_FIELDS]
        found: Sequence[str | None] = subjects.get(r.record_id) or [None]
        accesses.extend(Accessed(subject, names, str(r.status)) for subject in found)
    await record_accesses(session, principal, outbox=outbox, accesses=accesses)


async def own_entries(
    session: AsyncSession,
    principal: InternalPrincipal,
    *,
    cipher: PiiCipher,
    cursor: str | None,
    limit: int,
) -> tuple[list[tuple[int, dict[str, Any]]], str | None]:
    """The entries about the caller (their ID number's blind index), newest first (seq
    and entry), after ``cursor``, and the next page's cursor."""
    subject_index = cipher.blind_index(principal.subject)
    t = access_log
    query = (
        select(t.c.seq, t.c.entry)
        .where(t.c.subject_index == subject_index)
        .order_by(t.c.seq.desc())
        .limit(limit)
    )
    after = decode_key(cursor, int)
    if after is not None:
        query = query.where(t.c.seq < after[0])
    rows = (await session.execute(query)).all()
    found = []
    for seq, text in rows:
        entry = json.loads(text)
        if entry.get("subject_index") == subject_index:  # the look-up column is not hashed
            found.append((seq, entry))
    return found, encode_key(rows[-1].seq) if len(rows) == limit else None


def main(argv: list[str], settings: ServiceSettings | None = None) -> int:
    return verify_command(
        argv,
        settings or Settings(),
        usage="usage: python -m data_exchange.access_audit verify",
        chain=access_log,
        checkpoints=access_log_checkpoints,
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
