"""Health, readiness and Prometheus metrics, and trace context for HTTP requests."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, FastAPI, Response
from fastapi.responses import JSONResponse
from opentelemetry import context as otel_context
from opentelemetry import trace
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from yiwang_platform import tracing

REQUESTS = Counter(
    "yiwang_http_requests_total", "HTTP requests", ["service", "method", "route", "status"]
)
LATENCY = Histogram(
    "yiwang_http_request_seconds", "HTTP request latency", ["service", "method", "route"]
)

ReadinessCheck = Callable[[], Awaitable[dict[str, str]]]


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


def health_router(
    readiness: ReadinessCheck, services: Callable[[], Awaitable[dict[str, str]]] | None = None
) -> APIRouter:
    """``/healthz``, ``/readyz`` and ``/metrics``; ``services`` adds peers' readiness (the gateway)."""
    router = APIRouter(tags=["health"])

    @router.get("/healthz", summary="Liveness")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get(
        "/readyz",
        summary="Readiness: database and event bus reachable",
        responses={
            503: {
                "description": "Not ready: the same body, `status` unavailable",
                "content": {"application/json": {"schema": {}}},
            }
        },
    )
    async def readyz() -> JSONResponse:
        checks = await readiness()
        body: dict[str, object] = {"checks": checks}
        ok = all(v == "ok" for v in checks.values())
        if services is not None:
            peers = await services()
            body["services"] = peers
            ok = ok and all(v == "ok" for v in peers.values())
        body["status"] = "ok" if ok else "unavailable"
        return JSONResponse(body, 200 if ok else 503)

    @router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router
