"""The hash-chained audit log on both databases: appends verify, every kind of tampering
is reported at the right entry, a keyed chain cannot be rebuilt without the key, and
concurrent appenders keep one valid chain."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import MetaData, Table, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yiwang_platform.audit_chain import (
    GENESIS,
    VerifyResult,
    append,
    audit_chain_table,
    canonical,
    chain_key,
    verify,
)
from yiwang_platform.db import create_engine, session_factory
from yiwang_platform.settings import ServiceSettings

KEY = bytes(range(32))


@pytest.fixture
async def chain(backend) -> AsyncIterator[tuple[async_sessionmaker[AsyncSession], Table]]:
    metadata = MetaData()
    table = audit_chain_table(metadata, "audit_test", indexed=("subject_index",))
    engine = create_engine(await backend.database_url("chain"))
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    try:
        yield session_factory(engine), table
    finally:
        await engine.dispose()


def entry(n: int) -> dict[str, Any]:
    return {"n": n, "who": "张三", "subject_index": f"idx-{n % 3}", "fields": ["name", "sex"]}


async def fill(sessions, table, count: int, key: bytes | None = None) -> None:
    async with sessions() as s, s.begin():
        await append(s, table, entries=[entry(n) for n in range(1, count + 1)], key=key)


async def check(sessions, table, key: bytes | None = None) -> VerifyResult:
    async with sessions() as s:
        return await verify(s, table, key=key, batch_size=2)


async def sql(sessions, statements: str, **params: Any) -> None:
    async with sessions() as s, s.begin():
        for statement in statements.split(";"):
            await s.execute(text(statement), params)


async def test_an_appended_chain_verifies_and_links_each_entry_to_the_last(chain):
    sessions, table = chain
    async with sessions() as s, s.begin():
        first = await append(s, table, entries=[entry(1), entry(2), entry(3)])
    async with sessions() as s, s.begin():
        second = await append(s, table, entries=[entry(4), entry(5)])
    assert [a.seq for a in first + second] == [1, 2, 3, 4, 5]

    async with sessions() as s:
        rows = (await s.execute(select(table).order_by(table.c.seq))).all()
    assert rows[0].entry == ('{"fields":["name","sex"],"n":1,"subject_index":"idx-1","who":"张三"}')
    assert rows[0].prev_hash == GENESIS
    assert rows[0].hash == hashlib.sha256((GENESIS + rows[0].entry).encode()).hexdigest()
    for before, after in itertools.pairwise(rows):
        assert after.prev_hash == before.hash
        assert after.hash == hashlib.sha256((before.hash + after.entry).encode()).hexdigest()
    assert [r.subject_index for r in rows] == ["idx-1", "idx-2", "idx-0", "idx-1", "idx-2"]
    assert [a.hash for a in first + second] == [r.hash for r in rows]

    assert await check(sessions, table) == VerifyResult(True, 5, None, None, rows[-1].hash)


async def test_an_empty_chain_verifies(chain):
    sessions, table = chain
    assert await check(sessions, table) == VerifyResult(True, 0, None, None, None)


@pytest.mark.parametrize(
    ("tamper", "first_bad", "reason"),
    [
        (
            "UPDATE audit_test SET entry = replace(entry, '张三', '李四') WHERE seq = 3",
            3,
            "hash does not match the entry",
        ),
        (
            "UPDATE audit_test SET hash = :forged WHERE seq = 3",
            3,
            "hash does not match the entry",
        ),
        ("DELETE FROM audit_test WHERE seq = 3", 3, "entry 3 is missing (next is 4)"),
        ("DELETE FROM audit_test WHERE seq IN (1, 2)", 1, "entry 1 is missing (next is 3)"),
        # Rows 2 and 3 swap places.
        (
            "UPDATE audit_test SET seq = 100 WHERE seq = 2;"
            "UPDATE audit_test SET seq = 2 WHERE seq = 3;"
            "UPDATE audit_test SET seq = 3 WHERE seq = 100",
            2,
            "prev_hash does not match the previous entry's hash",
        ),
        (
            "UPDATE audit_test SET subject_index = 'idx-9' WHERE seq = 4",
            4,
            "column subject_index does not match the entry",
        ),
    ],
    ids=["edited-entry", "edited-hash", "deleted-row", "deleted-first-rows", "reordered", "index"],
)
async def test_tampering_is_reported_at_the_first_bad_entry(chain, tamper, first_bad, reason):
    sessions, table = chain
    await fill(sessions, table, 6)
    assert (await check(sessions, table)).ok
    await sql(sessions, tamper, **({"forged": "f" * 64} if ":forged" in tamper else {}))
    result = await check(sessions, table)
    assert (result.ok, result.first_bad_seq, result.reason) == (False, first_bad, reason)
    assert result.entries_checked == first_bad - 1
    assert result.head_hash is None


async def _rechain_from(sessions, table, seq: int, key: bytes | None) -> None:
    """An attacker edits entry ``seq`` and recomputes its hash with plain SHA-256."""
    async with sessions() as s, s.begin():
        row = (await s.execute(select(table).where(table.c.seq == seq))).one()
        edited = json.loads(row.entry) | {"who": "王五"}
        forged_text = canonical(edited)
        forged = hashlib.sha256((row.prev_hash + forged_text).encode()).hexdigest()
        await s.execute(
            table.update().where(table.c.seq == seq).values(entry=forged_text, hash=forged)
        )


async def test_a_rechained_entry_breaks_the_link_to_the_next(chain):
    sessions, table = chain
    await fill(sessions, table, 5)
    await _rechain_from(sessions, table, 3, None)
    result = await check(sessions, table)
    assert (result.ok, result.first_bad_seq, result.reason) == (
        False,
        4,
        "prev_hash does not match the previous entry's hash",
    )


async def test_a_keyed_chain_cannot_be_rebuilt_without_the_key(chain):
    sessions, table = chain
    await fill(sessions, table, 4, key=KEY)
    async with sessions() as s:
        first = (await s.execute(select(table).where(table.c.seq == 1))).one()
    assert first.hash == hmac.new(KEY, (GENESIS + first.entry).encode(), "sha256").hexdigest()
    assert (await check(sessions, table, key=KEY)).ok
    wrong = await check(sessions, table, key=b"k" * 32)
    assert (wrong.ok, wrong.first_bad_seq) == (False, 1)
    unkeyed = await check(sessions, table)
    assert (unkeyed.ok, unkeyed.first_bad_seq) == (False, 1)

    await _rechain_from(sessions, table, 2, KEY)
    result = await check(sessions, table, key=KEY)
    assert (result.ok, result.first_bad_seq, result.reason) == (
        False,
        2,
        "hash does not match the entry",
    )


async def test_a_rolled_back_append_leaves_no_gap(chain):
    sessions, table = chain
    await fill(sessions, table, 2)
    async with sessions() as s:
        await s.begin()
        await append(s, table, entries=[entry(99)])
        await s.rollback()
    async with sessions() as s, s.begin():
        assert [a.seq for a in await append(s, table, entries=[entry(3)])] == [3]
    result = await check(sessions, table)
    assert (result.ok, result.entries_checked) == (True, 3)


async def test_concurrent_appenders_keep_one_valid_chain(chain):
    sessions, table = chain
    writers, per_writer = 20, 5

    async def writer(w: int) -> None:
        async with sessions() as s, s.begin():
            await append(s, table, entries=[{"writer": w, "i": i} for i in range(per_writer)])

    await asyncio.gather(*(writer(w) for w in range(writers)))
    result = await check(sessions, table)
    assert (result.ok, result.entries_checked) == (True, writers * per_writer)
    async with sessions() as s:
        rows = (await s.execute(select(table.c.seq, table.c.entry).order_by(table.c.seq))).all()
    assert [r.seq for r in rows] == list(range(1, writers * per_writer + 1))
    # Each writer's entries are contiguous and in order: a batch is appended as a whole.
    by_writer: dict[int, list[int]] = {}
    for r in rows:
        e = json.loads(r.entry)
        by_writer.setdefault(e["writer"], []).append(r.seq)
    assert all(seqs == list(range(seqs[0], seqs[0] + per_writer)) for seqs in by_writer.values())
    assert len(by_writer) == writers


def test_the_key_setting_is_base64_of_at_least_32_bytes(tmp_path):
    encoded = base64.b64encode(KEY).decode()
    assert chain_key(ServiceSettings(var_dir=tmp_path, audit_chain_key=encoded)) == KEY
    with pytest.raises(ValueError, match="at least 32 bytes"):
        chain_key(
            ServiceSettings(var_dir=tmp_path, audit_chain_key=base64.b64encode(b"x" * 8).decode())
        )


def test_the_key_is_required_in_the_distributed_run_and_made_once_in_standalone(tmp_path):
    with pytest.raises(RuntimeError, match="YIWANG_AUDIT_CHAIN_KEY"):
        chain_key(ServiceSettings(var_dir=tmp_path, environment="distributed"))
    made = chain_key(ServiceSettings(var_dir=tmp_path))
    assert len(made) == 32
    assert chain_key(ServiceSettings(var_dir=tmp_path)) == made
    assert (tmp_path / "audit-chain.key").stat().st_mode & 0o777 == 0o600
