"""Builds a service's FastAPI app with its database, migrations, outbox relay,
consumers, health, metrics, problem+json errors and internal-token checks.

Each service's ``main.create_app`` calls ``build_app`` with its own pieces;
the standalone launcher passes a shared in-process bus and the gateway's keys.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi import APIRouter, FastAPI, Request
from fastapi.telemetry import TelemetryConfig
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from yiwang_platform import tracing
from yiwang_platform.bus import EventBus, create_bus
from yiwang_platform.consumer import (
    BatchHandlers,
    EventConsumer,
    HandlerContext,
    Handlers,
    dlq_topic,
    purge_inbox,
)
from yiwang_platform.db import create_engine, is_sqlite, ping, session_factory
from yiwang_platform.errors import document_problems, install_problem_handlers
from yiwang_platform.events import CloudEvent, EventData, EventSchemas
from yiwang_platform.idempotency import TABLE as IDEMPOTENCY_TABLE
from yiwang_platform.idempotency import purge_expired
from yiwang_platform.internal_token import (
    InternalTokenVerifier,
    load_jwks,
)
from yiwang_platform.logs import configure_logging
from yiwang_platform.migrations import upgrade
from yiwang_platform.observability import (
    DependencyMonitor,
    bool_check,
    health_router,
    install_tracing_and_metrics,
)
from yiwang_platform.outbox import Outbox, OutboxRelay
from yiwang_platform.peers import PeerClient
from yiwang_platform.pii import PiiCipher
from yiwang_platform.settings import ServiceSettings

log = logging.getLogger(__name__)


@dataclass
class ServiceSpec:
    name: str  # audience of its internal tokens and its consumer group
    title: str
    settings: ServiceSettings
    metadata: MetaData
    migrations: Path
    routers: Sequence[APIRouter]
    publishes: Sequence[type[EventData]] = ()
    handlers: Handlers = field(default_factory=dict)
    # Set-based forms of some handlers, for runs of one event type (``consumer.BatchHandler``).
    batch_handlers: BatchHandlers = field(default_factory=dict)
    # Services it calls inside a request, reached at the setting ``peer_<name>_url``.
    peers: Sequence[str] = ()
    # Whether it reads or writes personal identifiers (the PII key must be set to start).
    uses_pii: bool = False
    # The service's own collaborators (a seal keyring, a face matcher), built at start
    # from its settings and reached by ``collaborators_of`` and ``ctx.collaborators_as``.
    collaborators: Callable[[Any], object] | None = None
    version: str = "0.1.0"
    # Extra start/stop work of the service, run inside the platform's lifespan.
    lifespan: Callable[[FastAPI], contextlib.AbstractAsyncContextManager[None]] | None = None
    # False when the service serves its own /healthz, /readyz, /status and /metrics (the gateway).
    health_routes: bool = True


class Runtime:
    """Everything a request or a handler of one service needs."""

    def __init__(
        self,
        spec: ServiceSpec,
        bus: EventBus | None = None,
        verifier: InternalTokenVerifier | None = None,
        schemas: EventSchemas | None = None,
    ) -> None:
        s = spec.settings
        self.spec = spec
        self.settings = s
        url = s.resolved_database_url()
        self.engine: AsyncEngine = create_engine(
            url, **({} if is_sqlite(url) else pool_settings(s))
        )
        self.sessions: async_sessionmaker[AsyncSession] = session_factory(self.engine)
        # Reads that change nothing run without BEGIN and ROLLBACK around their one query
        # on PostgreSQL (two round trips fewer); SQLite reads take the normal path.
        self.read_sessions: async_sessionmaker[AsyncSession] = (
            self.sessions
            if is_sqlite(url)
            else session_factory(self.engine.execution_options(isolation_level="AUTOCOMMIT"))
        )
        self.owns_bus = bus is None
        self.bus = bus or create_bus(s)
        self.verifier = verifier or InternalTokenVerifier(
            load_jwks(s.internal_token_public_keys), s.internal_token_issuer
        )
        self.schemas = schemas or EventSchemas.load(s.contracts_dir)
        self.outbox = Outbox(spec.metadata.tables["outbox"], source=f"/yiwang/{spec.name}")
        self.outbox.bind(self.sessions)
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        # Built at start, not here: generating the OpenAPI document needs no key.
        self._cipher: PiiCipher | None = None
        self.peers: dict[str, PeerClient] = {}
        self._collaborators: object | None = None
        self.peer_transports: dict[str, httpx.AsyncBaseTransport] = {}
        self.relay = OutboxRelay(
            self.outbox,
            self.sessions,
            self.bus,
            s.outbox_batch_size,
            s.outbox_poll_interval,
            retention=timedelta(seconds=s.outbox_retention_seconds),
        )
        self.consumer = (
            EventConsumer(
                spec.name,
                spec.handlers,
                context=self.handler_context,
                factory=self.sessions,
                bus=self.bus,
                schemas=self.schemas,
                inbox=spec.metadata.tables["inbox"],
                batch_handlers=spec.batch_handlers,
                batch_size=s.consumer_batch_size,
                max_attempts=s.consumer_max_attempts,
            )
            if spec.handlers
            else None
        )
        self.dependencies = DependencyMonitor(spec.name)
        self.dependencies.add("bus", bool_check(self.bus.ready))
        self._tasks: list[asyncio.Task[Any]] = []
        self._purging: asyncio.Task[None] | None = None
        self.purges = 0

    @property
    def cipher(self) -> PiiCipher:
        if self._cipher is None:
            if not self.spec.uses_pii:
                raise RuntimeError(f"{self.spec.name} is not declared to use the PII key")
            self._cipher = PiiCipher.from_settings(self.settings)
        return self._cipher

    @property
    def collaborators(self) -> object:
        if self._collaborators is None:
            if self.spec.collaborators is None:
                raise RuntimeError(f"{self.spec.name} declares no collaborators of its own")
            self._collaborators = self.spec.collaborators(self.settings)
        return self._collaborators

    def handler_context(self, session: AsyncSession, event: CloudEvent) -> HandlerContext:
        return HandlerContext(
            session=session,
            outbox=self.outbox,
            settings=self.settings,
            now=self.clock(),
            envelope=event,
            cipher=self.cipher if self.spec.uses_pii else None,
            peers=self.peers,
            collaborators=self.collaborators if self.spec.collaborators else None,
        )

    def connect_in_process(self, apps: dict[str, FastAPI]) -> None:
        """Standalone: reach the peers' ASGI apps directly instead of over HTTP."""
        self.peer_transports = {
            name: httpx.ASGITransport(app=app)
            for name, app in apps.items()
            if name in self.spec.peers
        }

    def _build_peers(self) -> dict[str, PeerClient]:
        s = self.settings
        peers = {}
        for name in self.spec.peers:
            transport = self.peer_transports.get(name)
            url = getattr(s, f"peer_{name.replace('-', '_')}_url")
            peers[name] = PeerClient(
                name,
                "http://in-process" if transport else url,
                s.peer_timeout,
                transport=transport,
            )
        return peers

    def topics(self) -> list[str]:
        published = {e.topic for e in self.spec.publishes}
        consumed = {model.topic for model in self.spec.handlers}
        return sorted(published | consumed | {dlq_topic(t) for t in consumed})

    async def start(self) -> None:
        s = self.settings
        # A missing key stops the start, not the first request.
        if self.spec.uses_pii:
            _ = self.cipher
        if self.spec.collaborators is not None:
            _ = self.collaborators
        self.peers = self._build_peers()
        url = s.resolved_database_url()
        if is_sqlite(url):
            s.var_dir.mkdir(parents=True, exist_ok=True)
        if s.migrate_on_start:
            await upgrade(self.engine, self.spec.migrations)
        if self.owns_bus:
            try:
                await self.bus.start()
                await self.bus.ensure_topics(self.topics())
            except Exception as exc:  # the relay and consumers retry until the broker is back
                log.warning("event bus not reachable at start: %s", type(exc).__name__)
        else:
            await self.bus.ensure_topics(self.topics())
        if s.outbox_relay_enabled:
            self._tasks.append(
                asyncio.create_task(self.relay.run(), name=f"{self.spec.name}-relay")
            )
        if self.consumer is not None:
            self._tasks.append(
                asyncio.create_task(self.consumer.run(), name=f"{self.spec.name}-consumer")
            )
        self._purging = asyncio.create_task(
            self._purge_periodically(), name=f"{self.spec.name}-purge"
        )

    async def stop(self, grace: float = 10.0) -> None:
        """Stop consumers after their current batch is committed, then flush the outbox."""
        if self._purging is not None:
            self._purging.cancel()
            await asyncio.gather(self._purging, return_exceptions=True)
        if self.consumer is not None:
            self.consumer.stop()
        self.relay.stop()
        if self._tasks:
            _, pending = await asyncio.wait(self._tasks, timeout=grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        if self.settings.outbox_relay_enabled:
            with contextlib.suppress(Exception):
                await self.relay.drain(timeout=grace)
        if self.owns_bus:
            with contextlib.suppress(Exception):
                await self.bus.stop()
        for peer in self.peers.values():
            await peer.close()
        await self.engine.dispose()

    async def purge(self, *, now: datetime | None = None) -> dict[str, int]:
        """Delete rows that no longer serve (retentions in the settings); how many per table."""
        at = now or datetime.now(UTC)
        tables = self.spec.metadata.tables
        purged = {"outbox": await self.relay.purge_published(now=at)}
        if "inbox" in tables:
            before = at - timedelta(seconds=self.settings.inbox_retention_seconds)
            purged["inbox"] = await purge_inbox(self.sessions, tables["inbox"], before=before)
        if IDEMPOTENCY_TABLE in tables:
            purged["idempotency"] = await purge_expired(
                self.sessions, tables[IDEMPOTENCY_TABLE], now=at
            )
        return purged

    async def _purge_periodically(self) -> None:
        # Every replica purges: the deletes are idempotent, and a few per hour cost little.
        # The first round waits a little, so as not to compete with the start's own work.
        interval = self.settings.purge_interval_seconds
        await asyncio.sleep(min(interval, 60.0))
        while True:
            try:
                purged = await self.purge()
                self.purges += 1
                if any(purged.values()):
                    log.info("purged old rows: %s", purged)
            except Exception as exc:  # the database may be down: try again next round
                log.warning("purge failed, retrying later: %s", type(exc).__name__)
            await asyncio.sleep(interval)

    async def readiness(self) -> dict[str, str]:
        """Only what the process needs to serve: its database. The bus is a dependency
        (``/status``): the outbox keeps events while Kafka is away."""
        try:
            await asyncio.wait_for(ping(self.engine), 3)
            return {"database": "ok"}
        except Exception:
            return {"database": "unavailable"}


def build_app(
    spec: ServiceSpec,
    bus: EventBus | None = None,
    *,
    verifier: InternalTokenVerifier | None = None,
    configure_logs: bool = True,
) -> FastAPI:
    if configure_logs:
        configure_logging(spec.name, spec.settings.log_level, as_json=spec.settings.log_json)
        tracing.configure(spec.name)
    runtime = Runtime(spec, bus=bus, verifier=verifier)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        try:
            if spec.lifespan is None:
                yield
            else:
                async with spec.lifespan(_app):
                    yield
        finally:
            await runtime.stop()

    app = FastAPI(
        title=spec.title,
        version=spec.version,
        lifespan=lifespan,
        redirect_slashes=False,
        telemetry=NATIVE_TELEMETRY_OFF,
    )
    app.state.runtime = runtime
    install_problem_handlers(app)
    document_problems(app)
    install_tracing_and_metrics(app, spec.name)
    if spec.health_routes:
        app.include_router(health_router(runtime.readiness, runtime.dependencies))
    for router in spec.routers:
        app.include_router(router)
    return app


# FastAPI's own OpenTelemetry instrumentation stays off: ObservabilityMiddleware makes the
# one server span and the metrics. FastAPI's would add spans per request and per dependency
# (measured: a quarter of a simple request's time) and record exception messages, which
# may hold identifiers.
NATIVE_TELEMETRY_OFF: TelemetryConfig = {
    "tracing": False,
    "metrics": False,
    "logs": False,
    "operation_spans": False,
}


def pool_settings(settings: ServiceSettings) -> dict[str, Any]:
    return {
        "pool_size": settings.database_pool_size,
        "max_overflow": settings.database_max_overflow,
        "pool_pre_ping": settings.database_pool_pre_ping,
    }


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def connect_in_process(app: FastAPI, apps: dict[str, FastAPI]) -> None:
    """Standalone: the service ``app`` reaches its peers among ``apps`` in-process."""
    runtime: Runtime = app.state.runtime
    runtime.connect_in_process(apps)


# ---- the entry points of a service's ``main`` module ------------------------------------


def packaged_migrations(main_module_file: str) -> Path:
    """The service's ``migrations/``: inside the installed package (images) or beside it (source)."""
    here = Path(main_module_file).resolve().parent
    packaged = here / "migrations"
    return packaged if packaged.is_dir() else here.parent / "migrations"


def service_entrypoints(
    spec: Callable[[Any], ServiceSpec],
) -> tuple[Callable[..., FastAPI], Callable[[], dict[str, Any]], Callable[[str], FastAPI]]:
    """``create_app``, ``openapi_document`` and the module ``__getattr__`` that builds
    ``app`` on first access (so ``uvicorn <service>.main:app`` works and importing
    the module for contracts or tests opens nothing)."""

    def create_app(
        settings: ServiceSettings | None = None,
        bus: EventBus | None = None,
        *,
        verifier: InternalTokenVerifier | None = None,
        configure_logs: bool = True,
    ) -> FastAPI:
        return build_app(spec(settings), bus=bus, verifier=verifier, configure_logs=configure_logs)

    def openapi_document() -> dict[str, Any]:
        return create_app(configure_logs=False).openapi()

    def module_getattr(name: str) -> FastAPI:
        if name == "app":
            return create_app()
        raise AttributeError(name)

    return create_app, openapi_document, module_getattr
