"""Forwarding a request to a service with an internal token in place of the caller's credentials."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import Request, Response

from gateway.audit.access_log import AccessRecorder, granted_fields
from gateway.identity.principal import Principal
from gateway.routing.authorisation import CASE_HEADER, Authoriser
from gateway.routing.calls import Services
from gateway.routing.scenarios import SCENARIO_HEADER
from gateway.routing.upstreams import UpstreamRequestInvalid, UpstreamUnavailable
from yiwang_platform.errors import ProblemError, problem_response
from yiwang_platform.tracing import current_traceparent

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

EXCHANGE_ACCESS_LOG = "/api/v1/data-exchange/access-log/mine"


def upstream_path(path: str) -> str:
    """The path to send on: the decoded path the gateway decided on, percent-encoded
    again, so the service decodes exactly that (a decoded ``?``, ``#`` or ``%`` stays
    part of the path)."""
    return quote(path, safe=_PATH_SAFE)


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


@dataclass(frozen=True)
class Forwarder:
    """Forwarding: each request authorised, sent on with an internal token in place of
    the caller's credentials, and audited — let through or refused."""

    services: Services
    authoriser: Authoriser
    recorder: AccessRecorder
    max_body_bytes: int
    # Peers a service may call on the caller's behalf (further audiences of the token).
    delegated_audiences: dict[str, list[str]]

    async def forward(
        self,
        request: Request,
        *,
        service: str,
        principal: Principal,
        to_path: str | None = None,
    ) -> Response:
        """``request`` on to ``service`` (at ``to_path``, else its own path). A refusal
        (403 scenario, 429 rate limit, 413, ...) is audited and raised as ProblemError."""
        scenario: str | None = None
        try:
            if service not in self.services.upstreams:
                raise ProblemError(404, "not_found", "资源不存在", f"no service named {service}")
            body = await self._body(request)
            # Scenario decision, rate limit and subject binding: scn/grant/bind/acr claims.
            path = to_path or request.scope["path"]
            decision = self.authoriser.decide(
                principal,
                method=request.method,
                path=to_path or request.url.path,
                requested=request.headers.get(SCENARIO_HEADER),
            )
            scenario = decision.scenario_name
            claims = await self.authoriser.claims(
                principal, decision, case_id=request.headers.get(CASE_HEADER, "")
            )
        except ProblemError as refused:
            await self.recorder.record_decision(
                principal,
                service=service,
                method=request.method,
                path=request.url.path,
                status=refused.status,
                reason=refused.code,
                scenario=scenario,
            )
            raise
        response, duration_ms = await self._send(
            request, service=service, principal=principal, path=path, body=body, claims=claims
        )
        await self.recorder.record_decision(
            principal,
            service=service,
            method=request.method,
            path=to_path or request.url.path,
            status=response.status_code,
            decision="allowed",
            scenario=claims.get("scn"),
            fields=granted_fields(claims.get("grant")),
            duration_ms=duration_ms,
        )
        return response

    async def _body(self, request: Request) -> bytes:
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
        return body

    async def _send(
        self,
        request: Request,
        *,
        service: str,
        principal: Principal,
        path: str,
        body: bytes,
        claims: dict[str, Any],
    ) -> tuple[Response, int]:
        """The service's answer (or the gateway's 400/503 in its place) and how long it took."""
        delegates = self.delegated_audiences.get(service, [])
        token = self.services.tokens.mint(
            audience=[service, *delegates] if delegates else service,
            subject=principal.subject,
            principal_type=principal.principal_type,
            ttl=self.services.token_ttl,
            roles=list(principal.roles),
            kid_of_caller=principal.key_id,
            dept=principal.department,
            **claims,
        )
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in _DROP_REQUEST]
        headers.append(("authorization", f"Bearer {token}"))
        traceparent = current_traceparent()
        if traceparent:
            headers.append(("traceparent", traceparent))
        if request.client:
            headers.append(("x-forwarded-for", request.client.host))
        upstreams = self.services.upstreams
        started = time.perf_counter()
        response: Response
        try:
            answer = await upstreams[service].send(
                request.method,
                upstream_path(path),
                query=upstream_query(request),
                headers=headers,
                body=body,
            )
        except UpstreamRequestInvalid:
            response = problem_response(
                request,
                400,
                code="bad_request",
                detail="the request cannot be forwarded (a control character in the path or a header)",
            )
        except UpstreamUnavailable:
            response = problem_response(
                request,
                503,
                code="upstream_unavailable",
                detail=f"{service} did not answer",
                headers={"Retry-After": "2"},
            )
        else:
            response = Response(content=answer.body, status_code=answer.status)
            origins = [u.origin for u in upstreams.values()]
            for name, value in answer.headers:
                if name.lower() in _DROP_RESPONSE:
                    continue
                if name.lower() in ("location", "content-location"):
                    value = _public_location(value, origins)
                response.headers.append(name, value)
        return response, int((time.perf_counter() - started) * 1000)


async def forward_own_access_log(
    request: Request, *, forwarder: Forwarder, principal: Principal
) -> Response:
    """The citizen's own 数据使用记录, answered by data-exchange (which selects by the
    caller's own subject, so no parameter can name another person)."""
    if principal.principal_type != "citizen":
        await forwarder.recorder.record_decision(
            principal,
            service="data-exchange",
            method=request.method,
            path=request.url.path,
            status=403,
            reason="forbidden",
        )
        raise ProblemError(403, "forbidden", "无权访问", "the access log is a citizen's own")
    return await forwarder.forward(
        request, service="data-exchange", principal=principal, to_path=EXCHANGE_ACCESS_LOG
    )
