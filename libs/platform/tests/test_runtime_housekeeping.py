"""The service runtime's housekeeping and its answer to a database outage, on a minimal
service: published outbox rows, old inbox rows and expired idempotency records are
purged on a schedule; an unreachable database answers 503 problem+json with Retry-After."""

from __future__ import annotations

import logging
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from sqlalchemy import MetaData, func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError, ProgrammingError

from yiwang_platform import errors
from yiwang_platform.bus.inprocess import InProcessBus
from yiwang_platform.db import is_unavailable
from yiwang_platform.deps import SessionDep
from yiwang_platform.events import EventSchemas
from yiwang_platform.idempotency import idempotency_table
from yiwang_platform.internal_token import InternalTokenSigner, InternalTokenVerifier
from yiwang_platform.outbox import inbox_table, outbox_table
from yiwang_platform.service import Runtime, ServiceSpec, build_app
from yiwang_platform.settings import ServiceSettings
from yiwang_platform.testing import database_outage, eventually, need_stack, running

METADATA = MetaData()
OUTBOX = outbox_table(METADATA)
INBOX = inbox_table(METADATA)
IDEMPOTENCY = idempotency_table(METADATA)

NOW = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
DAY = timedelta(days=1)

router = APIRouter()


@router.get("/things")
async def count_things(session: SessionDep) -> dict[str, int]:
    return {"outbox": int(await session.scalar(select(func.count()).select_from(OUTBOX)) or 0)}


def spec(settings: ServiceSettings) -> ServiceSpec:
    return ServiceSpec(
        name="housekeeping",
        title="housekeeping test service",
        settings=settings,
        metadata=METADATA,
        migrations=Path("unused"),  # the tables are created directly
        routers=[router],
    )


def api(app: FastAPI) -> httpx.AsyncClient:
    # The app's own answer, not the exception a server would log after a 500.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://test")


def verifier() -> InternalTokenVerifier:
    return InternalTokenVerifier(InternalTokenSigner.generate().jwks())


async def settings_for(backend: Any, **overrides: Any) -> ServiceSettings:
    values: dict[str, Any] = {
        "service_name": "housekeeping",
        "database_url": await backend.database_url("housekeeping"),
        "var_dir": backend.tmp,
        "migrate_on_start": False,
        "log_json": False,
    }
    return ServiceSettings(**{**values, **overrides})


@pytest.fixture
async def runtime(backend) -> AsyncIterator[Runtime]:
    rt = Runtime(
        spec(await settings_for(backend)),
        bus=InProcessBus(),
        verifier=verifier(),
        schemas=EventSchemas({}),
    )
    async with rt.engine.begin() as conn:
        await conn.run_sync(METADATA.create_all)
    yield rt
    await rt.engine.dispose()


def outbox_row(n: int, created: datetime, published: datetime | None) -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid4()),
        "topic": "t",
        "message_key": str(n),
        "headers": "[]",
        "payload": "{}",
        "created_at": created,
        "published_at": published,
        "attempts": 1 if published else 0,
    }


def inbox_row(event_id: str, processed: datetime) -> dict[str, Any]:
    return {"consumer": "c", "event_id": event_id, "event_type": "e", "processed_at": processed}


def idempotency_row(key: str, expires: datetime) -> dict[str, Any]:
    return {
        "principal": "p",
        "key": key,
        "request_hash": "0" * 64,
        "status": 201,
        "resource_id": "r",
        "created_at": expires - DAY,
        "expires_at": expires,
    }


async def remaining(rt: Runtime) -> dict[str, list[Any]]:
    async with rt.sessions() as s:
        return {
            "outbox": sorted(await s.scalars(select(OUTBOX.c.message_key))),
            "inbox": sorted(await s.scalars(select(INBOX.c.event_id))),
            "idempotency": sorted(await s.scalars(select(IDEMPOTENCY.c.key))),
        }


async def test_purge_keeps_what_still_serves(runtime):
    s = runtime.settings
    async with runtime.sessions() as session, session.begin():
        old = NOW - timedelta(seconds=s.outbox_retention_seconds) - timedelta(seconds=1)
        await session.execute(
            OUTBOX.insert(),
            [
                outbox_row(1, old, old),  # published long ago: goes
                outbox_row(2, NOW - DAY, NOW - DAY),  # published recently: stays
                outbox_row(3, old, None),  # never published: stays, whatever its age
            ],
        )
        inbox_cutoff = NOW - timedelta(seconds=s.inbox_retention_seconds)
        await session.execute(
            INBOX.insert(),
            [
                inbox_row("old", inbox_cutoff - timedelta(seconds=1)),
                inbox_row("recent", inbox_cutoff + timedelta(seconds=1)),
            ],
        )
        await session.execute(
            IDEMPOTENCY.insert(),
            [idempotency_row("expired", NOW), idempotency_row("live", NOW + timedelta(hours=1))],
        )

    purged = await runtime.purge(now=NOW)

    assert purged == {"outbox": 1, "inbox": 1, "idempotency": 1}
    assert await remaining(runtime) == {
        "outbox": ["2", "3"],
        "inbox": ["recent"],
        "idempotency": ["live"],
    }


async def test_reads_run_outside_a_transaction_on_postgresql(runtime, backend):
    if backend.database_kind != "postgres":
        pytest.skip("SQLite reads take the normal path")

    async def in_transaction(factory) -> bool:
        async with factory() as session:
            await session.execute(select(func.count()).select_from(OUTBOX))
            raw = await (await session.connection()).get_raw_connection()
            return bool(raw.driver_connection.is_in_transaction())

    assert await in_transaction(runtime.sessions) is True
    assert await in_transaction(runtime.read_sessions) is False
    # The pool hands the same connections back to ordinary sessions in a transaction.
    assert await in_transaction(runtime.sessions) is True


def test_the_inbox_outlives_the_brokers_retention():
    # Kafka keeps events 7 days (deploy/local/kafka.sh): a shorter inbox would let a
    # replay from the earliest offset apply them twice.
    assert ServiceSettings().inbox_retention_seconds > 7 * 24 * 3600
    with pytest.raises(ValueError):
        ServiceSettings(inbox_retention_seconds=3600)


async def test_the_runtime_purges_on_its_schedule(backend):
    settings = await settings_for(backend, purge_interval_seconds=0.05)
    app = build_app(spec(settings), bus=InProcessBus(), verifier=verifier(), configure_logs=False)
    rt: Runtime = app.state.runtime
    async with rt.engine.begin() as conn:
        await conn.run_sync(METADATA.create_all)
    now = datetime.now(UTC)
    async with rt.sessions() as session, session.begin():
        await session.execute(IDEMPOTENCY.insert(), [idempotency_row("expired", now)])
        await session.execute(OUTBOX.insert(), [outbox_row(1, now - 30 * DAY, now - 30 * DAY)])

    async with running(app):

        async def purged() -> bool:
            left = await remaining(rt)
            return left["idempotency"] == [] and left["outbox"] == []

        await eventually(purged)
        assert rt.purges >= 1


# ---- a database outage ----------------------------------------------------------------


@pytest.fixture
def unavailable_log(caplog: pytest.LogCaptureFixture, monkeypatch) -> pytest.LogCaptureFixture:
    # A fresh throttle, so that an earlier test's warning does not silence this one's.
    monkeypatch.setattr(errors, "_unavailable_log", errors._Throttled())
    caplog.set_level(logging.WARNING, logger="yiwang_platform.errors")
    return caplog


def assert_unavailable(answer: Any) -> None:
    assert answer.status_code == 503, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["retry-after"] == str(errors.RETRY_AFTER_SECONDS)
    body = answer.json()
    assert (body["code"], body["title"]) == (
        "dependency_unavailable",
        "所依赖的服务暂不可用，请稍后重试",
    )


def assert_one_line_without_stack(caplog: pytest.LogCaptureFixture) -> None:
    records = [r for r in caplog.records if r.name == "yiwang_platform.errors"]
    assert [r.levelno for r in records] == [logging.WARNING]
    assert records[0].exc_info is None


async def app_on(settings: ServiceSettings) -> FastAPI:
    app = build_app(spec(settings), bus=InProcessBus(), verifier=verifier(), configure_logs=False)
    return app


async def test_postgresql_going_away_answers_503_and_recovers(backend, unavailable_log):
    if backend.database_kind != "postgres":
        pytest.skip("the outage is made on PostgreSQL")
    app = await app_on(await settings_for(backend))
    async with running(app), api(app) as client:
        async with app.state.runtime.engine.begin() as conn:
            await conn.run_sync(METADATA.create_all)
        assert (await client.get("/things")).status_code == 200  # a pooled connection exists

        async with database_outage(app.state.runtime.settings.database_url):
            first = await client.get("/things")
            second = await client.get("/things")
        back = await client.get("/things")

    assert_unavailable(first)
    assert_unavailable(second)
    assert_one_line_without_stack(unavailable_log)
    assert back.status_code == 200


@pytest.fixture
def refusing_port() -> Iterator[int]:
    """A port bound but not listening: connections to it are refused, and nothing else
    can take it while the test runs."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


async def test_a_refused_connection_answers_503(backend, refusing_port, unavailable_log):
    if backend.database_kind != "postgres":
        pytest.skip("a server address only PostgreSQL has")
    need_stack("postgres")
    url = f"postgresql+asyncpg://yiwang:yiwang@127.0.0.1:{refusing_port}/nowhere"
    # No relay: its drain at shutdown would wait for the database the whole grace period.
    settings = await settings_for(backend, database_url=url, outbox_relay_enabled=False)
    app = await app_on(settings)
    async with running(app), api(app) as client:
        assert_unavailable(await client.get("/things"))
    assert_one_line_without_stack(unavailable_log)


async def test_an_unopenable_sqlite_file_answers_503(backend, tmp_path, unavailable_log):
    if backend.database_kind != "sqlite":
        pytest.skip("a SQLite file")
    url = f"sqlite+aiosqlite:///{tmp_path / 'missing-dir' / 'db.sqlite'}"
    app = await app_on(await settings_for(backend, database_url=url))
    async with running(app), api(app) as client:
        assert_unavailable(await client.get("/things"))


async def test_a_query_error_is_still_a_500(backend, caplog):
    # Only unreachable databases are 503: a wrong statement is a bug and says so.
    app = await app_on(await settings_for(backend))
    broken = APIRouter()

    @broken.get("/broken")
    async def broken_route(session: SessionDep) -> None:
        await session.execute(text("SELECT * FROM no_such_table"))

    app.include_router(broken)
    async with running(app), api(app) as client:
        answer = await client.get("/broken")
    assert (answer.status_code, answer.json()["code"]) == (500, "internal_error")


def test_only_connection_failures_count_as_an_outage():
    refused_at_commit = IntegrityError(None, None, Exception("duplicate key"))
    wrong_statement = ProgrammingError("SELECT x", {}, Exception("no such column"))
    assert not is_unavailable(refused_at_commit)
    assert not is_unavailable(wrong_statement)
    assert not is_unavailable(ValueError("bad"))
    assert is_unavailable(DBAPIError(None, None, Exception("cannot connect now")))
    assert is_unavailable(
        DBAPIError("SELECT 1", {}, Exception("gone"), connection_invalidated=True)
    )
    assert is_unavailable(ConnectionRefusedError())
