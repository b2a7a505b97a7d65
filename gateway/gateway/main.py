"""App factory of the gateway (``uvicorn gateway.main:app``)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

from fastapi import FastAPI
from starlette.middleware import Middleware

from gateway.api.routes import ROUTERS
from gateway.collaborators import Collaborators, build
from gateway.events import PUBLISHES
from gateway.identity.api_keys import hash_api_key
from gateway.models import metadata
from gateway.routing.edge import EdgeGuard
from gateway.routing.upstreams import (
    AsgiUpstream,
    HttpUpstream,
    Upstream,
    UpstreamUnavailable,
)
from gateway.settings import SERVICES, Settings
from yiwang_platform.bus import EventBus
from yiwang_platform.internal_token import InternalTokenSigner
from yiwang_platform.keyvalue import KeyValueStore, create_store
from yiwang_platform.observability import DependencyCheck
from yiwang_platform.service import ServiceSpec, build_app, packaged_migrations

NAME = "gateway"

# Public: the hash to configure for an API key (YIWANG_API_KEYS holds hashes only).
__all__ = ["create_app", "hash_api_key", "openapi_document"]


def migrations_dir() -> Path:
    return packaged_migrations(__file__)


def load_signer(settings: Settings) -> InternalTokenSigner:
    value = settings.internal_token_private_key.strip()
    if not value:
        raise RuntimeError("YIWANG_INTERNAL_TOKEN_PRIVATE_KEY is not set")
    pem = value if value.startswith("-----BEGIN") else Path(value).read_text()
    return InternalTokenSigner.from_pem(
        pem, settings.internal_token_kid, issuer=settings.internal_token_issuer
    )


def _service_readiness(upstream: Upstream) -> DependencyCheck:
    async def state() -> str:
        try:
            answer = await asyncio.wait_for(upstream.send("GET", "/readyz"), 3)
        except (UpstreamUnavailable, TimeoutError):
            return "unreachable"
        if answer.status == 200:
            return "ok"
        try:
            return str(json.loads(answer.body).get("status", "unavailable"))
        except ValueError:
            return "unavailable"

    return state


def _upstreams(settings: Settings, services: Mapping[str, FastAPI] | None) -> dict[str, Upstream]:
    """Each service's ASGI app in-process (standalone), else its URL from the settings."""
    if services is not None:
        return {
            name: AsgiUpstream(app, settings.upstream_timeout) for name, app in services.items()
        }
    return {
        name: HttpUpstream(url, settings.upstream_timeout)
        for name, url in settings.upstream_urls().items()
    }


def create_app(
    settings: Settings | None = None,
    bus: EventBus | None = None,
    *,
    signer: InternalTokenSigner | None = None,
    services: Mapping[str, FastAPI] | None = None,
    upstreams: dict[str, Upstream] | None = None,
    kv: KeyValueStore | None = None,
    configure_logs: bool = True,
) -> FastAPI:
    """The gateway. ``services``: the services' apps, reached in-process (standalone);
    ``upstreams``: how to reach each service, when neither the apps nor the settings'
    URLs should be used (tests); ``signer``: the internal-token key, else the settings';
    ``kv``: the key-value store, else one from the settings (closed with the app)."""
    settings = settings or Settings()
    routes = upstreams or _upstreams(settings, services)
    missing = set(SERVICES) - set(routes)
    if missing:
        raise ValueError(f"no upstream for {sorted(missing)}")
    # Built at start (so importing the app needs no key) and kept for the status checks.
    built: list[Collaborators] = []

    def collaborators(_settings: object) -> Collaborators:
        runtime = app.state.runtime
        found = build(
            settings,
            sessions=runtime.sessions,
            outbox=runtime.outbox,
            cipher=runtime.cipher,
            kv=kv or create_store(settings, prefix="yiwang:gateway:"),
            upstreams=routes,
            signer=signer or load_signer(settings),
        )
        built.append(found)
        return found

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        gateway = app.state.runtime.collaborators
        assert isinstance(gateway, Collaborators)
        await gateway.start()
        try:
            yield
        finally:
            await gateway.stop(close_kv=kv is None)
            built.clear()

    spec = ServiceSpec(
        name=NAME,
        title="Yiwang gateway",
        settings=settings,
        metadata=metadata,
        migrations=migrations_dir(),
        routers=ROUTERS,
        publishes=PUBLISHES,
        uses_pii=True,
        collaborators=collaborators,
        lifespan=lifespan,
    )
    app = build_app(spec, bus=bus, configure_logs=configure_logs)
    # Innermost of the middlewares: metrics and traces see its answers too.
    app.user_middleware.append(Middleware(EdgeGuard))
    # Readiness is the gateway's own database only. Redis and the services are shared by
    # every gateway replica, so failing readiness on them would pull all replicas at once
    # and turn clear 503 answers into connection errors; /status and metrics show them.
    dependencies = app.state.runtime.dependencies

    async def redis_state() -> str:
        return "ok" if built and await built[0].kv.ready() else "unavailable"

    dependencies.add("redis", redis_state)
    for name, upstream in routes.items():
        dependencies.add(name, _service_readiness(upstream), group="services")
    return app


def openapi_document() -> dict[str, object]:
    """The OpenAPI document as published in ``contracts/openapi/gateway.json``."""
    return create_app(configure_logs=False).openapi()


def __getattr__(name: str) -> FastAPI:
    if name == "app":
        return create_app()
    raise AttributeError(name)
