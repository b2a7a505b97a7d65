"""Health, readiness and Prometheus metrics, and trace context for HTTP requests."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from opentelemetry import context as otel_context
from opentelemetry import trace
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

from yiwang_platform import tracing

REQUESTS = Counter(
    "yiwang_http_requests_total", "HTTP requests", ["service", "method", "route", "status"]
)
LATENCY = Histogram(
    "yiwang_http_request_seconds", "HTTP request latency", ["service", "method", "route"]
)

ReadinessCheck = Callable[[], Awaitable[dict[str, str]]]


def install_tracing_and_metrics(app: FastAPI, service: str) -> None:
    tracer = tracing.tracer(service)

    @app.middleware("http")
    async def _observe(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        ctx = tracing.extract(
            {k: v for k, v in request.headers.items() if k in ("traceparent", "tracestate")}
        )
        token = otel_context.attach(ctx)
        started = time.perf_counter()
        try:
            with tracer.start_as_current_span(
                f"{request.method} {request.url.path}", kind=trace.SpanKind.SERVER
            ):
                response = await call_next(request)
                traceparent = tracing.current_traceparent()
                if traceparent:
                    response.headers["traceparent"] = traceparent
        finally:
            otel_context.detach(token)
        route = getattr(request.scope.get("route"), "path", "unmatched")
        LATENCY.labels(service, request.method, route).observe(time.perf_counter() - started)
        REQUESTS.labels(service, request.method, route, str(response.status_code)).inc()
        return response


def health_router(
    readiness: ReadinessCheck, services: Callable[[], Awaitable[dict[str, str]]] | None = None
) -> APIRouter:
    """``/healthz``, ``/readyz`` and ``/metrics``; ``services`` adds peers' readiness (the gateway)."""
    router = APIRouter(tags=["health"])

    @router.get("/healthz", summary="Liveness")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", summary="Readiness: database and event bus reachable")
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
