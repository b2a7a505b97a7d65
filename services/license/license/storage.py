"""Encryption at rest of licenses stored before it existed: a data migration run when
the service starts, since the Alembic migration (0003) cannot reach the PII key.

It encrypts the holder's name and the data fields of every row that still holds them
in clear and clears the legacy columns, in batches, each in its own transaction; rows
taken by another replica at the same time are skipped (``SKIP LOCKED`` on PostgreSQL),
so replicas starting together share the work. Rerunning it finds nothing to do. The
seal is untouched: it signs the plaintext, which decrypts to the same values.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from license.licenses import Opened, seal_personal
from license.models import License
from yiwang_platform.pii import PiiCipher

log = logging.getLogger(__name__)
BATCH = 500


async def encrypt_legacy(
    sessions: async_sessionmaker[AsyncSession], cipher: PiiCipher, *, batch: int = BATCH
) -> int:
    """Encrypt every license still stored in clear; returns how many it encrypted."""
    done = 0
    while True:
        async with sessions() as session, session.begin():
            query = (
                select(License)
                .where(License.holder_name_encrypted.is_(None))
                .order_by(License.license_id)
                .limit(batch)
            )
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            rows = list((await session.scalars(query)).all())
            for license in rows:
                data = Opened(license.legacy_holder_name or "", dict(license.legacy_fields or {}))
                seal_personal(license, data, cipher=cipher)
        done += len(rows)
        if len(rows) < batch:
            break
    if done:
        log.info("licenses encrypted at rest: %d", done)
    return done
