"""Async SQLAlchemy engines and sessions: SQLite (aiosqlite) or PostgreSQL (asyncpg)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Dialect, TypeDecorator, event, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    if is_sqlite(url):
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # WAL lets readers work while the relay or a consumer writes.
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()
            # Let SQLAlchemy, not the driver, decide when transactions begin (see below).
            dbapi_connection.isolation_level = None

        @event.listens_for(engine.sync_engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # The driver's own deferred BEGIN only starts at the first write, so reads and
            # savepoints before it ran outside the transaction. IMMEDIATE takes the write
            # lock up front; concurrent writers then wait (busy timeout) instead of failing.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    kwargs.setdefault("pool_pre_ping", True)
    # A request waits at most this long for a connection (asyncpg's default is 60 s): when
    # the server is unreachable it answers 503 soon instead of holding the client.
    kwargs.setdefault("connect_args", {"timeout": CONNECT_TIMEOUT})
    kwargs.setdefault("pool_timeout", POOL_TIMEOUT)
    return create_async_engine(url, **kwargs)


CONNECT_TIMEOUT = 5.0
POOL_TIMEOUT = 10.0

# PostgreSQL error classes that mean "the server is not serving you now": connection
# exceptions (08…), shutdown / starting up (57P01–57P03), too many connections (53300).
_UNAVAILABLE_SQLSTATES = ("08", "57P01", "57P02", "57P03", "53300")
_REQUEST_ERRORS = (sa_exc.IntegrityError, sa_exc.DataError, sa_exc.ProgrammingError)


def is_unavailable(error: BaseException) -> bool:
    """True when ``error`` (or what caused it) says the database cannot be reached — a
    refused or dropped connection, a server restarting, no pooled connection in time —
    rather than that the request or the code was wrong."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sa_exc.TimeoutError | ConnectionError | TimeoutError):
            return True
        if isinstance(current, sa_exc.OperationalError) and "database is locked" in str(current):
            return True  # SQLite: another writer held the file past the busy timeout
        if isinstance(current, sa_exc.DBAPIError):
            if current.connection_invalidated:
                return True
            # No statement: it failed while connecting (or committing; a refused
            # constraint at commit is the request's fault, not the database's).
            if current.statement is None and not isinstance(current, _REQUEST_ERRORS):
                return True
        sqlstate = getattr(current, "sqlstate", None)
        if isinstance(sqlstate, str) and sqlstate.startswith(_UNAVAILABLE_SQLSTATES):
            return True
        current = current.__cause__ or getattr(current, "orig", None)
    return False


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def ping(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every database (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime; use timezone-aware UTC")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value
