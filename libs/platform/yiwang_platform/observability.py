"""Health, readiness and Prometheus metrics, and trace context for HTTP requests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Literal

from fastapi import APIRouter, FastAPI, Response
from fastapi.responses import JSONResponse
from opentelemetry import context as otel_context
from opentelemetry import trace
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from pydantic import BaseModel, Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from yiwang_platform import tracing

REQUESTS = Counter(
    "yiwang_http_requests_total", "HTTP requests", ["service", "method", "route", "status"]
)
LATENCY = Histogram(
    "yiwang_http_request_seconds", "HTTP request latency", ["service", "method", "route"]
)

DEPENDENCY_UP = Gauge(
    "yiwang_dependency_up",
    "1 when a dependency (event bus, Redis, peer service) answered its last check, else 0",
    ["service", "dependency"],
)

ReadinessCheck = Callable[[], Awaitable[dict[str, str]]]
DependencyCheck = Callable[[], Awaitable[str]]


def install_tracing_and_metrics(app: FastAPI, service: str) -> None:
    app.add_middleware(ObservabilityMiddleware, service=service)


class ObservabilityMiddleware:
    """Trace context in and out (``traceparent``), a server span per request, and
    Prometheus counters. Plain ASGI: Starlette's ``BaseHTTPMiddleware`` costs a task
    and a stream per request."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service
        self.tracer = tracing.tracer(service)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        carrier = {
            k.decode("latin-1"): v.decode("latin-1")
            for k, v in scope["headers"]
            if k in (b"traceparent", b"tracestate")
        }
        token = otel_context.attach(tracing.extract(carrier))
        started = time.perf_counter()
        status = 500
        try:
            with self.tracer.start_as_current_span(
                f"{scope['method']} {scope['path']}", kind=trace.SpanKind.SERVER
            ):
                traceparent = (tracing.current_traceparent() or "").encode()

                async def send_with_trace(message: Message) -> None:
                    nonlocal status
                    if message["type"] == "http.response.start":
                        status = message["status"]
                        if traceparent:
                            message["headers"] = [
                                *message.get("headers", []),
                                (b"traceparent", traceparent),
                            ]
                    await send(message)

                await self.app(scope, receive, send_with_trace)
        finally:
            otel_context.detach(token)
            route = getattr(scope.get("route"), "path", "unmatched")
            LATENCY.labels(self.service, scope["method"], route).observe(
                time.perf_counter() - started
            )
            REQUESTS.labels(self.service, scope["method"], route, str(status)).inc()


class DependencyMonitor:
    """What a process uses but can keep serving without for a while: the event bus (the
    outbox holds events until it is back), Redis, peer services. Shown at ``/status`` and
    as the ``yiwang_dependency_up`` gauge, never in readiness: a shared dependency's
    outage would otherwise take every replica out of rotation at once."""

    def __init__(self, service: str, timeout: float = 3.0) -> None:
        self.service = service
        self.timeout = timeout
        self._checks: dict[str, tuple[str, DependencyCheck]] = {}

    def add(self, name: str, check: DependencyCheck, *, group: str = "dependencies") -> None:
        """``check`` answers ``"ok"`` or a one-word state (``unavailable``, ``unreachable``)."""
        self._checks[name] = (group, check)

    async def check(self) -> dict[str, dict[str, str]]:
        """Every check at once, each bounded by ``timeout``; ``{group: {name: state}}``."""

        async def one(check: DependencyCheck) -> str:
            try:
                return await asyncio.wait_for(check(), self.timeout)
            except Exception:
                return "unavailable"

        names = list(self._checks)
        states = await asyncio.gather(*(one(self._checks[n][1]) for n in names))
        out: dict[str, dict[str, str]] = {}
        for name, state in zip(names, states, strict=True):
            out.setdefault(self._checks[name][0], {})[name] = state
            DEPENDENCY_UP.labels(self.service, name).set(1 if state == "ok" else 0)
        return out


def bool_check(check: Callable[[], Awaitable[bool]]) -> DependencyCheck:
    async def state() -> str:
        return "ok" if await check() else "unavailable"

    return state


class Readiness(BaseModel):
    status: Literal["ok", "unavailable"]
    checks: dict[str, str] = Field(
        description="What the process itself needs to serve (its database): ok or unavailable"
    )


class DependencyStatus(BaseModel):
    status: Literal["ok", "degraded"] = Field(
        description="degraded when a dependency is down; the process may still serve"
    )
    checks: dict[str, str] = Field(description="The readiness checks")
    dependencies: dict[str, str] = Field(
        description="Event bus, Redis, ...: ok, unavailable or unreachable"
    )
    services: dict[str, str] = Field(
        default_factory=dict,
        description="Peer services whose readiness this process watches (the gateway's upstreams)",
    )


def health_router(readiness: ReadinessCheck, dependencies: DependencyMonitor) -> APIRouter:
    """``/healthz``, ``/readyz`` (what the process needs to serve), ``/status`` (its
    dependencies too) and ``/metrics``."""
    router = APIRouter(tags=["health"])

    @router.get("/healthz", summary="Liveness")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get(
        "/readyz",
        summary="Readiness: the process's own database reachable",
        description="Kafka, Redis and peer services are not part of readiness; see /status.",
        response_model=Readiness,
        responses={503: {"model": Readiness, "description": "Not ready"}},
    )
    async def readyz() -> JSONResponse:
        checks = await readiness()
        ok = all(v == "ok" for v in checks.values())
        body = Readiness(status="ok" if ok else "unavailable", checks=checks)
        return JSONResponse(body.model_dump(), 200 if ok else 503)

    @router.get(
        "/status",
        summary="Readiness and the state of every dependency (event bus, Redis, peers)",
        description="Always 200: a dependency being down degrades, it does not stop the process.",
        response_model=DependencyStatus,
    )
    async def status() -> DependencyStatus:
        checks, groups = await asyncio.gather(readiness(), dependencies.check())
        states = [*checks.values(), *(v for group in groups.values() for v in group.values())]
        return DependencyStatus(
            status="ok" if all(v == "ok" for v in states) else "degraded",
            checks=checks,
            dependencies=groups.get("dependencies", {}),
            services=groups.get("services", {}),
        )

    @router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
    async def metrics() -> Response:
        # Fresh dependency gauges on every scrape; each check is bounded by its timeout.
        await dependencies.check()
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router
