"""Signed checkpoints anchor an audit chain, on both databases: a writer who edits entry k
and rebuilds every hash after it (with the plain algorithm, or with the key, or without
the key) is named at k; the loss of the newest entries shows against the last checkpoint;
a forged checkpoint is reported; checkpoints are taken on schedule by an injected clock."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import MetaData, Table, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yiwang_platform.audit_chain import append, audit_chain_table, canonical, chain_hash
from yiwang_platform.audit_checkpoints import (
    CheckpointKey,
    all_checkpoints,
    audit_checkpoint_table,
    run_checkpoints,
    take,
    verify_anchored,
)
from yiwang_platform.db import create_engine, session_factory
from yiwang_platform.settings import ServiceSettings

KEY = bytes(range(32))
SIGNER = CheckpointKey.generate()
T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)

Chain = tuple[async_sessionmaker[AsyncSession], Table, Table]


@pytest.fixture
async def chain(backend) -> AsyncIterator[Chain]:
    metadata = MetaData()
    table = audit_chain_table(metadata, "audit_test", indexed=("subject_index",))
    checkpoints = audit_checkpoint_table(metadata, table)
    engine = create_engine(await backend.database_url("chain"))
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    try:
        yield session_factory(engine), table, checkpoints
    finally:
        await engine.dispose()


def entry(n: int) -> dict[str, Any]:
    return {"n": n, "who": "张三", "subject_index": f"idx-{n % 3}"}


async def fill(chain: Chain, first: int, last: int, key: bytes | None) -> None:
    sessions, table, _ = chain
    async with sessions() as s, s.begin():
        await append(s, table, entries=[entry(n) for n in range(first, last + 1)], key=key)


async def checkpoint(chain: Chain, now: datetime = T0) -> None:
    sessions, table, checkpoints = chain
    async with sessions() as s, s.begin():
        await take(s, table, checkpoints=checkpoints, key=SIGNER, now=now)


async def check(chain: Chain, key: bytes | None):
    sessions, table, checkpoints = chain
    async with sessions() as s:
        return await verify_anchored(s, table, checkpoints=checkpoints, key=key, jwks=SIGNER.jwks())


async def rebuild_after_edit(chain: Chain, k: int, key: bytes | None) -> None:
    """A database writer edits entry ``k`` and recomputes every hash from it to the head
    (HMAC under ``key`` when it holds the key, else plain SHA-256)."""
    sessions, table, _ = chain
    async with sessions() as s, s.begin():
        rows = (await s.execute(select(table).where(table.c.seq >= k).order_by(table.c.seq))).all()
        prev = rows[0].prev_hash
        for row in rows:
            text = row.entry
            if row.seq == k:
                text = canonical(json.loads(row.entry) | {"who": "王五"})
            digest = chain_hash(prev, text, key=key)
            await s.execute(
                update(table)
                .where(table.c.seq == row.seq)
                .values(entry=text, prev_hash=prev, hash=digest)
            )
            prev = digest


async def test_a_checkpointed_chain_verifies(chain):
    await fill(chain, 1, 5, KEY)
    await checkpoint(chain)
    await fill(chain, 6, 8, KEY)
    await checkpoint(chain, T0 + timedelta(minutes=5))
    result = await check(chain, KEY)
    assert (result.ok, result.entries_checked, result.checkpoints_checked) == (True, 8, 2)


@pytest.mark.parametrize(
    ("chain_key", "writer_key"),
    [(None, None), (KEY, KEY)],
    ids=["unkeyed-chain-plain-rebuild", "writer-holds-the-key"],
)
async def test_an_edit_rebuilt_to_the_head_is_named_by_the_checkpoint(chain, chain_key, writer_key):
    await fill(chain, 1, 4, chain_key)
    await checkpoint(chain)
    await fill(chain, 5, 12, chain_key)
    await checkpoint(chain, T0 + timedelta(minutes=5))
    await fill(chain, 13, 14, chain_key)  # after the last checkpoint
    await rebuild_after_edit(chain, 7, writer_key)

    result = await check(chain, chain_key)
    assert (result.ok, result.first_bad_seq) == (False, 7)
    assert result.reason == "entry differs from the one checkpoint 12 signed"
    assert result.entries_checked == 6


async def test_a_writer_without_the_key_is_named_at_the_edit(chain):
    await fill(chain, 1, 10, KEY)
    await checkpoint(chain)
    await fill(chain, 11, 12, KEY)
    await rebuild_after_edit(chain, 11, None)  # past every checkpoint: the key alone names it
    result = await check(chain, KEY)
    assert (result.ok, result.first_bad_seq, result.reason) == (
        False,
        11,
        "hash does not match the entry",
    )
    await rebuild_after_edit(chain, 3, None)
    result = await check(chain, KEY)
    assert (result.ok, result.first_bad_seq) == (False, 3)


async def test_losing_the_newest_entries_shows_against_the_last_checkpoint(chain):
    sessions, table, _ = chain
    await fill(chain, 1, 9, KEY)
    await checkpoint(chain)
    async with sessions() as s, s.begin():
        await s.execute(delete(table).where(table.c.seq > 6))
    result = await check(chain, KEY)
    assert (result.ok, result.first_bad_seq, result.reason) == (
        False,
        7,
        "entries 7 to 9 are missing: checkpoint 9 covers them",
    )


async def test_a_forged_checkpoint_is_reported(chain):
    sessions, table, checkpoints = chain
    await fill(chain, 1, 3, KEY)
    await checkpoint(chain)
    async with sessions() as s, s.begin():
        await s.execute(update(checkpoints).values(hash="f" * 64))
    result = await check(chain, KEY)
    assert (result.ok, result.reason) == (
        False,
        "checkpoint 3: stored values differ from what it signed",
    )

    other = CheckpointKey.generate()
    async with sessions() as s:
        found = await all_checkpoints(s, checkpoints)
        result = await verify_anchored(
            s, table, checkpoints=checkpoints, key=KEY, jwks=other.jwks()
        )
    assert result.reason == f"checkpoint 3: signed with an unknown key {found[0].kid}"


async def test_a_checkpoint_signs_what_an_auditor_can_check(chain):
    sessions, table, checkpoints = chain
    await fill(chain, 1, 3, KEY)
    await checkpoint(chain)
    await checkpoint(chain, T0 + timedelta(hours=1))  # nothing new: no second checkpoint
    async with sessions() as s:
        (cp,) = await all_checkpoints(s, checkpoints)
        head = await s.scalar(select(table.c.hash).where(table.c.seq == 3))
    signed = json.loads(cp.payload)
    assert signed == {
        "chain": "audit_test",
        "seq": 3,
        "from_seq": 1,
        "hash": head,
        "entries": 3,
        "fingerprints": hashlib.sha256(cp.fingerprints).hexdigest(),
        "at": T0.isoformat(),
        "kid": SIGNER.kid,
    }
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from jwt.algorithms import OKPAlgorithm

    public = OKPAlgorithm.from_jwk(json.dumps(SIGNER.jwks()["keys"][0]))
    assert isinstance(public, Ed25519PublicKey)
    public.verify(base64.urlsafe_b64decode(cp.signature + "=="), cp.payload.encode())


async def test_checkpoints_are_taken_on_schedule(chain):
    sessions, table, checkpoints = chain
    clock = [T0]
    ticks: list[float] = []

    async def later(minutes: int, appended: tuple[int, int] | None = None) -> None:
        clock[0] += timedelta(minutes=minutes)
        if appended:
            await fill(chain, *appended, KEY)

    # What happens during each wait between two checks (the first check finds 1-2).
    between = [
        lambda: later(1, (3, 3)),  # the next check is too soon after the first checkpoint
        lambda: later(5),  # now one is due: it covers 3
        lambda: later(5),  # due again, but nothing new
    ]

    async def sleep(seconds: float) -> None:
        ticks.append(seconds)
        if len(ticks) > len(between):
            raise asyncio.CancelledError
        await between[len(ticks) - 1]()

    await fill(chain, 1, 2, KEY)
    task = asyncio.create_task(
        run_checkpoints(
            sessions,
            table,
            checkpoints=checkpoints,
            key=SIGNER,
            interval=300,
            clock=lambda: clock[0],
            sleep=sleep,
        )
    )
    with pytest.raises(asyncio.CancelledError):
        await task
    async with sessions() as s:
        found = await all_checkpoints(s, checkpoints)
    assert [(c.from_seq, c.seq, c.at) for c in found] == [
        (1, 2, T0),
        (3, 3, T0 + timedelta(minutes=6)),
    ]
    assert ticks == [60.0] * 4  # a quarter of the interval, at most a minute


def test_the_checkpoint_key_is_required_in_the_distributed_run(tmp_path):
    with pytest.raises(RuntimeError, match="YIWANG_AUDIT_CHECKPOINT_PRIVATE_KEY"):
        CheckpointKey.from_settings(ServiceSettings(var_dir=tmp_path, environment="distributed"))
    made = CheckpointKey.from_settings(ServiceSettings(var_dir=tmp_path))
    again = CheckpointKey.from_settings(ServiceSettings(var_dir=tmp_path))
    assert made.kid == again.kid
    given = CheckpointKey.from_settings(
        ServiceSettings(
            var_dir=tmp_path / "x",
            environment="distributed",
            audit_checkpoint_private_key=str(tmp_path / "audit-checkpoint.pem"),
        )
    )
    assert given.kid == made.kid
