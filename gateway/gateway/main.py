"""App factory of the gateway (``uvicorn gateway.main:app``)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI
from starlette.middleware import Middleware

from gateway.access_log import AccessRecorder
from gateway.api.routes import ROUTERS
from gateway.authn import start_authentication
from gateway.edge import EdgeGuard
from gateway.events import PUBLISHES
from gateway.identity import ApiKeyAuthenticator
from gateway.models import audit_checkpoints, audit_entries, metadata
from gateway.proxy import Forwarder
from gateway.ratelimit import RateLimiter
from gateway.scenarios import ScenarioStore
from gateway.settings import SERVICES, Settings
from gateway.upstreams import HttpUpstream, Upstream, UpstreamUnavailable
from yiwang_platform.audit_chain import chain_key
from yiwang_platform.audit_checkpoints import CheckpointKey, run_checkpoints
from yiwang_platform.bus import EventBus
from yiwang_platform.internal_token import InternalTokenSigner
from yiwang_platform.keyvalue import create_store
from yiwang_platform.observability import DependencyCheck
from yiwang_platform.pii import PiiCipher
from yiwang_platform.service import ServiceSpec, build_app, packaged_migrations

NAME = "gateway"


def migrations_dir() -> Path:
    return packaged_migrations(__file__)


def load_signer(settings: Settings) -> InternalTokenSigner:
    value = settings.internal_token_private_key.strip()
    if not value:
        raise RuntimeError("YIWANG_INTERNAL_TOKEN_PRIVATE_KEY is not set")
    pem = value if value.startswith("-----BEGIN") else Path(value).read_text()
    return InternalTokenSigner.from_pem(
        pem, settings.internal_token_kid, settings.internal_token_issuer
    )


def _service_readiness(upstream: Upstream) -> DependencyCheck:
    async def state() -> str:
        try:
            answer = await asyncio.wait_for(upstream.send("GET", "/readyz", "", [], b""), 3)
        except (UpstreamUnavailable, TimeoutError):
            return "unreachable"
        if answer.status == 200:
            return "ok"
        try:
            return str(json.loads(answer.body).get("status", "unavailable"))
        except ValueError:
            return "unavailable"

    return state


def create_app(
    settings: Settings | None = None,
    bus: EventBus | None = None,
    signer: InternalTokenSigner | None = None,
    upstreams: dict[str, Upstream] | None = None,
    configure_logs: bool = True,
) -> FastAPI:
    settings = settings or Settings()
    token_signer = signer  # resolved at start so that importing the app needs no key
    routes = upstreams or {
        name: HttpUpstream(url, settings.upstream_timeout)
        for name, url in settings.upstream_urls().items()
    }
    missing = set(SERVICES) - set(routes)
    if missing:
        raise ValueError(f"no upstream for {sorted(missing)}")

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = app.state.runtime
        # The audit chain's keys come from settings (a missing one stops the start in the
        # distributed run): its HMAC key, and the key that signs checkpoints of its head.
        app.state.audit_checkpoint_key = checkpoint_key = CheckpointKey.from_settings(settings)
        recorder = AccessRecorder(
            runtime.sessions,
            runtime.outbox,
            settings.access_batch_size,
            PiiCipher.from_settings(settings),
            chain_key(settings),
        )
        # Shared short-lived state (rate windows, ...): Redis when configured.
        own_kv = getattr(app.state, "kv", None) is None
        if own_kv:
            app.state.kv = create_store(settings, prefix="yiwang:gateway:")
        # A policy file that does not compile stops the start, naming the file and field.
        scenarios = ScenarioStore(settings.policies_dir, settings.policies_poll_seconds)
        app.state.scenarios = scenarios
        app.state.forwarder = Forwarder(
            routes,
            token_signer or load_signer(settings),
            recorder,
            settings.internal_token_ttl,
            settings.max_body_bytes,
            scenarios=scenarios,
            limiter=RateLimiter(app.state.kv, settings.rate_limit_per_minute),
            delegated_audiences=settings.delegated_audiences,
        )
        for upstream in routes.values():
            await upstream.start()
        await start_authentication(app, settings, runtime)
        recorder.start()
        scenarios.start()
        checkpointer = asyncio.create_task(
            run_checkpoints(
                runtime.sessions,
                audit_entries,
                checkpoints=audit_checkpoints,
                key=checkpoint_key,
                interval=settings.audit_checkpoint_interval_seconds,
            ),
            name="gateway-audit-checkpoints",
        )
        try:
            yield
        finally:
            checkpointer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await checkpointer
            await scenarios.stop()
            await recorder.stop()
            if own_kv:
                await app.state.kv.close()
                app.state.kv = None
            for upstream in routes.values():
                await upstream.close()

    spec = ServiceSpec(
        name=NAME,
        title="Yiwang gateway",
        settings=settings,
        metadata=metadata,
        migrations=migrations_dir(),
        routers=ROUTERS,
        publishes=PUBLISHES,
        lifespan=lifespan,
    )
    app = build_app(spec, bus=bus, configure_logs=configure_logs)
    # Innermost of the middlewares: metrics and traces see its answers too.
    app.user_middleware.append(Middleware(EdgeGuard))
    app.state.authenticator = ApiKeyAuthenticator.from_setting(settings.api_keys)
    # Readiness is the gateway's own database only. Redis and the services are shared by
    # every gateway replica, so failing readiness on them would pull all replicas at once
    # and turn clear 503 answers into connection errors; /status and metrics show them.
    dependencies = app.state.runtime.dependencies

    async def redis_state() -> str:
        kv = getattr(app.state, "kv", None)
        return "ok" if kv is not None and await kv.ready() else "unavailable"

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
