"""Records every routed request: the row and its event are written together, in
batches, by one background writer, so auditing costs a queue put per request."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.events import AccessRecorded
from gateway.models import AccessRecord
from yiwang_platform.masking import mask
from yiwang_platform.outbox import Outbox

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Access:
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


class AccessRecorder:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], outbox: Outbox, batch_size: int
    ) -> None:
        self.sessions = sessions
        self.outbox = outbox
        self.batch_size = batch_size
        # Bounded: when the database is slow, requests wait here rather than drop records.
        self._queue: asyncio.Queue[Access] = asyncio.Queue(maxsize=batch_size * 20)
        self._task: asyncio.Task[None] | None = None

    async def record(self, access: Access) -> None:
        await self._queue.put(access)

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
                    log.warning("access records not written, retrying: %s", type(exc).__name__)
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 5.0)

    async def _write(self, batch: list[Access]) -> None:
        if not batch:
            return
        async with self.sessions() as session, session.begin():
            for a in batch:
                session.add(
                    AccessRecord(
                        id=a.id,
                        at=a.at,
                        principal_type=a.principal_type,
                        principal_subject=mask(a.principal_subject),
                        key_id=a.key_id,
                        service=a.service,
                        method=a.method,
                        path=mask(a.path)[:500],
                        status=a.status,
                        duration_ms=a.duration_ms,
                        trace_id=a.trace_id,
                    )
                )
                await self.outbox.add(
                    session,
                    AccessRecorded(
                        access_id=a.id,
                        principal_type=a.principal_type,
                        service=a.service,
                        method=a.method,
                        status=a.status,
                        duration_ms=a.duration_ms,
                        at=a.at,
                    ),
                    key=a.id,
                )
