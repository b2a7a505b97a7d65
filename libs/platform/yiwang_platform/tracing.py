"""OpenTelemetry context through HTTP and Kafka headers (W3C ``traceparent``)."""

from __future__ import annotations

from collections.abc import Mapping

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

_propagator = TraceContextTextMapPropagator()
_configured = False


def configure(service_name: str) -> None:
    """Install an SDK tracer provider so spans carry real ids (exporters are deployment config)."""
    global _configured
    if not _configured:
        from opentelemetry.sdk.resources import Resource

        trace.set_tracer_provider(
            TracerProvider(resource=Resource.create({"service.name": service_name}))
        )
        _configured = True


def tracer(name: str) -> trace.Tracer:
    return trace.get_tracer(name)


def current_traceparent() -> str | None:
    carrier: dict[str, str] = {}
    _propagator.inject(carrier)
    return carrier.get("traceparent")


def extract(carrier: Mapping[str, str]) -> otel_context.Context:
    return _propagator.extract(dict(carrier))


def current_trace_id() -> str | None:
    span = trace.get_current_span()
    ctx = span.get_span_context()
    return format(ctx.trace_id, "032x") if ctx.is_valid else None
