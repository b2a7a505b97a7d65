"""Helpers for tests of a service app: run its lifespan and call it with a signed
internal token, as the gateway would."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Table, func, select

from yiwang_platform.bus.base import OutgoingMessage
from yiwang_platform.events import CloudEvent
from yiwang_platform.internal_token import InternalTokenSigner, InternalTokenVerifier

Publish = Callable[..., Awaitable[CloudEvent]]

# Addresses of the real servers (``deploy/local/stack.sh``), set by ``make test``.
POSTGRES_URL = os.environ.get("YIWANG_TEST_POSTGRES_URL", "")
KAFKA = os.environ.get("YIWANG_TEST_KAFKA", "")
REDIS_URL = os.environ.get("YIWANG_TEST_REDIS_URL", "")
REQUIRE_STACK = os.environ.get("YIWANG_TEST_REQUIRE_STACK") == "1"


def need_stack(*names: str) -> None:
    """Skip (or, under ``make test``, fail) when a real server is not configured."""
    configured = {"postgres": POSTGRES_URL, "kafka": KAFKA, "redis": REDIS_URL}
    missing = [n for n in names if not configured[n]]
    if missing:
        message = f"real {', '.join(missing)} not configured (start deploy/local/stack.sh)"
        if REQUIRE_STACK:
            pytest.fail(message)
        pytest.skip(message)


@contextlib.asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[FastAPI]:
    async with app.router.lifespan_context(app):
        yield app


@contextlib.asynccontextmanager
async def service_app(
    create_app: Callable[..., FastAPI],
    settings_type: type[Any],
    *,
    backend: Any,
    verifier: InternalTokenVerifier,
) -> AsyncIterator[FastAPI]:
    """A service's app, running on the test's backend (the root ``backend`` fixture:
    SQLite in process, or the real PostgreSQL and Kafka) and trusting ``verifier``."""
    settings = await backend.settings(settings_type)
    application = create_app(settings, bus=backend.bus(), verifier=verifier, configure_logs=False)
    async with running(application):
        yield application


def publisher(app: FastAPI) -> Publish:
    """Put a CloudEvent on the app's bus as another service would (``event`` re-sends one)."""

    async def publish(
        topic: str,
        event_type: str,
        key: str,
        data: dict[str, Any] | None = None,
        event: CloudEvent | None = None,
    ) -> CloudEvent:
        ce = event or CloudEvent(type=event_type, source="/test", data=data or {}, subject=key)
        message = OutgoingMessage(topic, key.encode(), ce.value(), ce.headers())
        await app.state.runtime.bus.publish([message])
        return ce

    return publish


def service_fixtures(
    create_app: Callable[..., FastAPI], settings_type: type[Any]
) -> tuple[Any, Any]:
    """The ``app`` and ``publish`` fixtures of a service's tests, for its conftest
    (``app, publish = service_fixtures(create_app, Settings)``): the app of
    ``service_app`` on the root ``backend`` and ``verifier`` fixtures, and its
    ``publisher``."""

    @pytest.fixture
    async def app(backend: Any, verifier: InternalTokenVerifier) -> AsyncIterator[FastAPI]:
        async with service_app(
            create_app, settings_type, backend=backend, verifier=verifier
        ) as application:
            yield application

    @pytest.fixture
    def publish(app: FastAPI) -> Publish:
        """Put a CloudEvent on the app's bus as another service would (``event`` re-sends
        one)."""
        return publisher(app)

    return app, publish


def client(
    app: FastAPI, signer: InternalTokenSigner | None, *, audience: str, **claims: Any
) -> httpx.AsyncClient:
    headers = {}
    if signer is not None:
        subject = claims.pop("subject", "test-user")
        ptype = claims.pop("principal_type", "staff")
        headers["Authorization"] = "Bearer " + signer.mint(
            audience, subject, principal_type=ptype, ttl=600, **claims
        )
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test", headers=headers, timeout=30
    )


async def eventually(
    check: Callable[[], Awaitable[bool]], timeout: float = 20.0, *, interval: float = 0.1
) -> None:
    """Wait until ``check`` is true; fail the test after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        if await check():
            return
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(interval)


async def all_relayed(app: FastAPI, outbox: Table) -> None:
    """Wait until the app's relay has published every row of its ``outbox`` table."""
    runtime = app.state.runtime

    async def relayed() -> bool:
        async with runtime.sessions() as s:
            pending = await s.scalar(
                select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
            )
        return bool(pending == 0)

    await eventually(relayed)


@contextlib.asynccontextmanager
async def database_outage(database_url: str) -> AsyncIterator[None]:
    """Make one PostgreSQL database unreachable, as a server restart does for its clients:
    every open connection to it is terminated and new ones are refused until the block
    ends. Other databases on the shared server are not touched."""
    import asyncpg  # only the PostgreSQL variants of tests need it
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    name = url.database
    admin = await asyncpg.connect(
        user=url.username,
        password=url.password,
        host=url.host,
        port=url.port,
        database="postgres",
    )
    try:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
        )
        yield
    finally:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        await admin.close()
