"""Idempotency records on both databases: they keep the created resource's id and a keyed
hash of the request (or an encrypted answer), never the request or answer in clear, and
expire after their time to live."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import MetaData, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yiwang_platform.db import create_engine, session_factory
from yiwang_platform.errors import ProblemError
from yiwang_platform.idempotency import Idempotency, Replay, idempotency_table, purge_expired
from yiwang_platform.pii import PiiCipher

ID_NUMBER = "11010519491231002X"
NAME = "张三丰"
T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
DAY = timedelta(hours=24)

METADATA = MetaData()
TABLE = idempotency_table(METADATA)


@pytest.fixture
async def sessions(backend) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(await backend.database_url("platform"))
    async with engine.begin() as conn:
        await conn.run_sync(METADATA.create_all)
    yield session_factory(engine)
    await engine.dispose()


@pytest.fixture
def cipher() -> PiiCipher:
    return PiiCipher(os.urandom(64))


def form(name: str = NAME) -> dict[str, object]:
    return {"matter_code": "11000000000001", "form": {"name": name, "id_number": ID_NUMBER}}


async def first_time(
    sessions: async_sessionmaker[AsyncSession],
    payload: object,
    *,
    cipher: PiiCipher | None,
    now: datetime,
    key: str = "apply-1",
    **answer: object,
) -> Replay | None:
    """Replay, and remember ``answer`` when the key was new (as a route does)."""
    idempotency = Idempotency(TABLE, key, ttl=DAY)
    async with sessions() as session, session.begin():
        prior = await idempotency.replay(session, "scope", payload=payload, cipher=cipher, now=now)
        if prior is None:
            await idempotency.remember(session, 201, now=now, **answer)  # type: ignore[arg-type]
    return prior


async def stored_rows(sessions: async_sessionmaker[AsyncSession]) -> list[dict[str, object]]:
    async with sessions() as session:
        return [dict(r._mapping) for r in (await session.execute(select(TABLE))).all()]


async def test_a_record_keeps_the_resource_id_and_a_keyed_hash_only(sessions, cipher):
    assert await first_time(sessions, form(), cipher=cipher, now=T0, resource_id="case-1") is None
    replayed = await first_time(sessions, form(), cipher=cipher, now=T0 + timedelta(hours=1))

    assert replayed == Replay(201, "case-1", None)
    [row] = await stored_rows(sessions)
    assert row["body_encrypted"] is None
    assert row["created_at"] == T0 and row["expires_at"] == T0 + DAY
    # Nothing of the request is readable, and its hash cannot be recomputed from a guess.
    text = json.dumps(row, default=str, ensure_ascii=False)
    assert NAME not in text and ID_NUMBER not in text and "matter_code" not in text
    canonical = json.dumps(form(), sort_keys=True, default=str, ensure_ascii=False).encode()
    assert row["request_hash"] != hashlib.sha256(canonical).hexdigest()


async def test_the_same_key_with_another_request_is_refused(sessions, cipher):
    await first_time(sessions, form(), cipher=cipher, now=T0, resource_id="case-1")
    with pytest.raises(ProblemError) as refused:
        await first_time(sessions, form("李四"), cipher=cipher, now=T0 + timedelta(minutes=1))
    assert (refused.value.status, refused.value.code) == (409, "idempotency_key_reused")


async def test_an_answer_that_is_not_one_resource_is_kept_encrypted(sessions, cipher):
    answer = {"results": [{"index": 0, "status": "created", "reason": f"{NAME} {ID_NUMBER}"}]}
    await first_time(sessions, form(), cipher=cipher, now=T0, body=answer)
    replayed = await first_time(sessions, form(), cipher=cipher, now=T0 + timedelta(minutes=1))

    assert replayed == Replay(201, None, answer)
    [row] = await stored_rows(sessions)
    assert isinstance(row["body_encrypted"], str)
    assert NAME not in row["body_encrypted"] and ID_NUMBER not in row["body_encrypted"]


async def test_an_expired_key_is_new_again(sessions, cipher):
    await first_time(sessions, form(), cipher=cipher, now=T0, resource_id="case-1")
    later = T0 + DAY
    # Even with another request: the old one is forgotten, not a conflict.
    assert (
        await first_time(sessions, form("李四"), cipher=cipher, now=later, resource_id="c2") is None
    )
    replayed = await first_time(sessions, form("李四"), cipher=cipher, now=later)

    assert replayed == Replay(201, "c2", None)
    [row] = await stored_rows(sessions)
    assert row["expires_at"] == later + DAY


async def test_a_service_without_personal_data_hashes_without_a_key(sessions):
    await first_time(sessions, {"code": "m1"}, cipher=None, now=T0, resource_id="7")
    assert await first_time(sessions, {"code": "m1"}, cipher=None, now=T0) == Replay(201, "7")
    [row] = await stored_rows(sessions)
    canonical = json.dumps({"code": "m1"}, sort_keys=True).encode()
    assert row["request_hash"] == hashlib.sha256(canonical).hexdigest()


async def test_purge_deletes_expired_records_only(sessions, cipher):
    await first_time(sessions, form(), cipher=cipher, now=T0, key="old", resource_id="1")
    await first_time(sessions, form(), cipher=cipher, now=T0 + DAY, key="new", resource_id="2")

    assert await purge_expired(sessions, TABLE, now=T0 + DAY + timedelta(seconds=1)) == 1
    assert [r["key"] for r in await stored_rows(sessions)] == ["new"]


async def test_no_key_stores_nothing(sessions, cipher):
    idempotency = Idempotency(TABLE, None, ttl=DAY)
    async with sessions() as session, session.begin():
        assert await idempotency.replay(session, "scope", payload=form(), cipher=cipher) is None
        await idempotency.remember(session, 201, resource_id="case-1")
    assert await stored_rows(sessions) == []
