"""The gateway's audit log (调用留痕): every authorisation decision — requests let through
and requests refused — appended to the hash-chained ``audit_entries`` table.

Entries and their ``gov.gateway.access.recorded.v1`` events are written together, in
batches, by one background writer, so auditing costs a queue put per request.
Entries carry no plaintext identifier: the caller's subject is masked, with a keyed
blind index beside it for look-ups; the path is masked.

Recording a decision::

    await recorder.record_decision(principal, service="data-exchange", method="GET",
                                   path=path, status=403, reason="scenario_required")

``routing.proxy.Forwarder.forward`` records the requests it forwards and those it
refuses (403 scenario, 429 rate limit, ...): callers of it do not record them again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.events import AccessRecorded
from gateway.identity.principal import Principal
from gateway.models import audit_entries
from yiwang_platform.audit_chain import append
from yiwang_platform.masking import mask
from yiwang_platform.outbox import Outbox
from yiwang_platform.pii import PiiCipher
from yiwang_platform.tracing import current_trace_id

log = logging.getLogger(__name__)

Decision = Literal["allowed", "refused"]
EVENT_SERVICES = {"matters", "intake", "license", "data-exchange", "supervision", "gateway"}


@dataclass(frozen=True)
class Access:
    """One decision. ``principal_subject`` is the plaintext subject: it is masked and
    indexed by the writer and never stored as given. ``scenario`` and ``fields`` (the
    granted fields, ``library.field``) are set when a scenario covered the request."""

    id: str
    at: datetime
    principal_type: str
    principal_subject: str
    key_id: str
    service: str
    method: str
    path: str
    status: int
    duration_ms: int
    trace_id: str | None
    scenario: str | None = None
    fields: tuple[str, ...] = ()
    decision: Decision = "allowed"
    reason: str | None = None


def granted_fields(grant: Mapping[str, Sequence[str]] | None) -> tuple[str, ...]:
    """A scenario grant ``{library: [field, ...]}`` as sorted ``library.field`` names."""
    if not grant:
        return ()
    return tuple(sorted(f"{library}.{name}" for library, names in grant.items() for name in names))


def entry_of(access: Access, cipher: PiiCipher) -> dict[str, Any]:
    """The chain entry of a decision: masked subject plus its blind index, masked path."""
    return {
        "kind": "gateway.decision",
        "access_id": access.id,
        "at": access.at.isoformat(),
        "principal_type": access.principal_type,
        "subject": mask(access.principal_subject),
        "subject_index": cipher.blind_index(access.principal_subject),
        "key_id": access.key_id,
        "scenario": access.scenario,
        "decision": access.decision,
        "reason": access.reason,
        "service": access.service,
        "method": access.method,
        "path": mask(access.path)[:500],
        "fields": list(access.fields),
        "status": access.status,
        "duration_ms": access.duration_ms,
        "trace_id": access.trace_id,
    }


class AccessRecorder:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        outbox: Outbox,
        *,
        batch_size: int,
        cipher: PiiCipher,
        chain_key: bytes | None = None,
    ) -> None:
        self.sessions = sessions
        self.outbox = outbox
        self.batch_size = batch_size
        self.cipher = cipher
        self.chain_key = chain_key
        # Bounded: when the database is slow, requests wait here rather than drop records.
        self._queue: asyncio.Queue[Access] = asyncio.Queue(maxsize=batch_size * 20)
        self._task: asyncio.Task[None] | None = None

    async def record(self, access: Access) -> None:
        await self._queue.put(access)

    async def record_decision(
        self,
        principal: Principal,
        *,
        service: str,
        method: str,
        path: str,
        status: int,
        decision: Decision = "refused",
        reason: str | None = None,
        scenario: str | None = None,
        fields: Iterable[str] = (),
        duration_ms: int = 0,
    ) -> None:
        """Record an authorisation decision (a refusal: ``status`` 403/429 and ``reason``
        the problem code, e.g. ``scenario_required``; or a request let through, with the
        scenario and the fields it granted). ``path`` is masked before it is stored."""
        await self.record(
            Access(
                id=str(uuid.uuid4()),
                at=datetime.now(UTC),
                principal_type=principal.principal_type,
                principal_subject=principal.subject,
                key_id=principal.key_id,
                service=service,
                method=method,
                path=path,
                status=status,
                duration_ms=duration_ms,
                trace_id=current_trace_id(),
                scenario=scenario,
                fields=tuple(sorted(fields)),
                decision=decision,
                reason=reason,
            )
        )

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="gateway-access-recorder")

    async def stop(self) -> None:
        await self.flush()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def flush(self) -> None:
        while not self._queue.empty():
            await self._write(self._drain())

    def _drain(self) -> list[Access]:
        batch: list[Access] = []
        while len(batch) < self.batch_size and not self._queue.empty():
            batch.append(self._queue.get_nowait())
        return batch

    async def _run(self) -> None:
        while True:
            first = await self._queue.get()
            batch = [first, *self._drain()]
            backoff = 0.2
            while True:
                try:
                    await self._write(batch)
                    break
                except Exception as exc:
                    log.warning("audit entries not written, retrying: %s", type(exc).__name__)
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 5.0)

    async def _write(self, batch: list[Access]) -> None:
        """Append the batch to the chain and add its events, in one transaction."""
        if not batch:
            return
        entries = [entry_of(a, self.cipher) for a in batch]
        async with self.sessions() as session, session.begin():
            appended = await append(session, audit_entries, entries=entries, key=self.chain_key)
            for a, done in zip(batch, appended, strict=True):
                await self.outbox.add(
                    session,
                    AccessRecorded(
                        access_id=a.id,
                        principal_type=a.principal_type,
                        service=a.service if a.service in EVENT_SERVICES else "gateway",
                        method=a.method,
                        status=a.status,
                        duration_ms=a.duration_ms,
                        at=a.at,
                        decision=a.decision,
                        reason=a.reason,
                        scenario=a.scenario,
                        audit_seq=done.seq,
                        audit_hash=done.hash,
                    ),
                    key=a.id,
                )
