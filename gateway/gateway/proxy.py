"""Forwarding a request to a service with an internal token in place of the caller's credentials."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from urllib.parse import quote

from fastapi import Request, Response

from gateway.access_log import Access, AccessRecorder, granted_fields
from gateway.authorisation import authorise
from gateway.identity import Principal
from gateway.ratelimit import RateLimiter
from gateway.scenarios import ScenarioStore
from gateway.upstreams import Upstream, UpstreamRequestInvalid, UpstreamUnavailable
from yiwang_platform.errors import ProblemError, problem_response
from yiwang_platform.internal_token import InternalTokenSigner
from yiwang_platform.tracing import current_trace_id, current_traceparent

# Never forwarded: hop-by-hop headers and the caller's own credentials.
_DROP_REQUEST = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
    "authorization",
    "x-api-key",
    "cookie",
    "traceparent",
    "tracestate",
}
_DROP_RESPONSE = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "content-length",
    "server",
    "date",
    # The gateway's own span answers the caller; the service's would be a second one.
    "traceparent",
}
# Characters a path segment may carry unencoded (RFC 3986 pchar, less "%").
_PATH_SAFE = "/:@!$&'()*+,;=~"
_QUERY_SAFE = _PATH_SAFE + "?%[]"


def upstream_path(request: Request) -> str:
    """The path to send on: the decoded path the gateway decided on, percent-encoded
    again, so the service decodes exactly that (a decoded ``?``, ``#`` or ``%`` stays
    part of the path)."""
    return quote(request.scope["path"], safe=_PATH_SAFE)


def upstream_query(request: Request) -> str:
    """The query as it came, with what may not travel raw (bytes outside ASCII, spaces)
    percent-encoded; existing escapes are kept."""
    return quote(request.url.query, safe=_QUERY_SAFE)


def _public_location(value: str, origins: Iterable[str]) -> str:
    """A Location pointing at a service's internal address, made relative (the same
    path through the gateway); other locations pass as they are."""
    for origin in origins:
        if origin and value.lower().startswith(origin.lower()):
            rest = value[len(origin) :]
            if rest[:1] in ("/", "?", ""):
                return rest if rest.startswith("/") else "/" + rest
    return value


class Forwarder:
    def __init__(
        self,
        upstreams: dict[str, Upstream],
        signer: InternalTokenSigner,
        recorder: AccessRecorder,
        token_ttl: int,
        max_body_bytes: int,
        scenarios: ScenarioStore | None = None,
        limiter: RateLimiter | None = None,
        delegated_audiences: dict[str, list[str]] | None = None,
    ) -> None:
        self.delegated_audiences = delegated_audiences or {}
        self.upstreams = upstreams
        self.signer = signer
        self.recorder = recorder
        self.token_ttl = token_ttl
        self.max_body_bytes = max_body_bytes
        # Per-scenario authorisation and rate limits (none: every route passes unlimited).
        self.scenarios = scenarios
        self.limiter = limiter

    async def forward(self, request: Request, service: str, principal: Principal) -> Response:
        upstream = self.upstreams.get(service)
        if upstream is None:
            raise ProblemError(404, "not_found", "资源不存在", f"no service named {service}")
        declared = request.headers.get("content-length")
        # isdigit() alone lets "²" through, which int() refuses.
        if declared and declared.isascii() and declared.isdigit():
            if int(declared) > self.max_body_bytes:
                raise ProblemError(
                    413, "payload_too_large", "请求体过大", title_en="Payload too large"
                )
        body = await request.body()
        if len(body) > self.max_body_bytes:
            raise ProblemError(413, "payload_too_large", "请求体过大", title_en="Payload too large")

        # Scenario decision, rate limit and subject binding: scn/grant/bind/acr claims.
        scenario_claims = await authorise(self, request, service, principal)
        delegates = self.delegated_audiences.get(service, [])
        token = self.signer.mint(
            audience=[service, *delegates] if delegates else service,
            subject=principal.subject,
            principal_type=principal.principal_type,
            ttl=self.token_ttl,
            roles=list(principal.roles),
            kid_of_caller=principal.key_id,
            dept=principal.department,
            **scenario_claims,
        )
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in _DROP_REQUEST]
        headers.append(("authorization", f"Bearer {token}"))
        traceparent = current_traceparent()
        if traceparent:
            headers.append(("traceparent", traceparent))
        if request.client:
            headers.append(("x-forwarded-for", request.client.host))

        started = time.perf_counter()
        try:
            answer = await upstream.send(
                request.method, upstream_path(request), upstream_query(request), headers, body
            )
            response: Response = Response(content=answer.body, status_code=answer.status)
            origins = [u.origin for u in self.upstreams.values()]
            for name, value in answer.headers:
                if name.lower() in _DROP_RESPONSE:
                    continue
                if name.lower() in ("location", "content-location"):
                    value = _public_location(value, origins)
                response.headers.append(name, value)
        except UpstreamRequestInvalid:
            response = problem_response(
                request,
                400,
                "bad_request",
                detail="the request cannot be forwarded (a control character in the path or a header)",
            )
        except UpstreamUnavailable:
            response = problem_response(
                request,
                503,
                "upstream_unavailable",
                detail=f"{service} did not answer",
                headers={"Retry-After": "2"},
            )
        await self.recorder.record(
            Access(
                id=str(uuid.uuid4()),
                at=datetime.now(UTC),
                principal_type=principal.principal_type,
                principal_subject=principal.subject,
                key_id=principal.key_id,
                service=service,
                method=request.method,
                path=request.url.path,
                status=response.status_code,
                duration_ms=int((time.perf_counter() - started) * 1000),
                trace_id=current_trace_id(),
                scenario=scenario_claims.get("scn"),
                fields=granted_fields(scenario_claims.get("grant")),
            )
        )
        return response
