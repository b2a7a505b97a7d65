"""The gateway calling a service itself (not forwarding a caller's request): an internal
token minted for that one call, JSON in and out, the trace passed on."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gateway.routing.upstreams import Upstream, UpstreamResponse, UpstreamUnavailable
from gateway.settings import SERVICES
from yiwang_platform.errors import ProblemError
from yiwang_platform.internal_token import InternalTokenSigner, TokenCache
from yiwang_platform.tracing import current_traceparent


@dataclass(frozen=True)
class Services:
    """The services behind the gateway, and the key that vouches for callers to them."""

    upstreams: dict[str, Upstream]
    signer: InternalTokenSigner
    # The signer's tokens for forwarded requests, reused for a caller's repeated requests.
    tokens: TokenCache
    # Lifetime of the internal tokens of forwarded requests.
    token_ttl: int


def require_known(service: str) -> None:
    """404 for a path segment that names no service."""
    if service not in SERVICES:
        raise ProblemError(404, "not_found", "资源不存在", f"no service named {service}")


def unavailable(detail: str) -> ProblemError:
    return ProblemError(
        503,
        "upstream_unavailable",
        "后端服务暂不可用",
        detail,
        headers={"Retry-After": "2"},
    )


async def call_service(
    services: Services,
    service: str,
    *,
    method: str,
    path: str,
    subject: str,
    principal_type: str,
    ttl: int,
    claims: Mapping[str, Any] | None = None,
    body: object = None,
) -> UpstreamResponse:
    """``method path`` on ``service`` with a token for ``subject`` carrying ``claims``
    (a JSON ``body`` when given). UpstreamUnavailable when the service does not answer."""
    token = services.signer.mint(
        audience=service,
        subject=subject,
        principal_type=principal_type,
        ttl=ttl,
        **(claims or {}),
    )
    headers = [("authorization", f"Bearer {token}"), ("accept", "application/json")]
    payload = b""
    if body is not None:
        headers.append(("content-type", "application/json"))
        payload = json.dumps(body, ensure_ascii=False).encode()
    traceparent = current_traceparent()
    if traceparent:
        headers.append(("traceparent", traceparent))
    return await services.upstreams[service].send(method, path, headers=headers, body=payload)


async def service_openapi(services: Services, service: str) -> tuple[int, Any]:
    """The service's own OpenAPI document (status and body), for the gateway's docs."""
    try:
        answer = await services.upstreams[service].send("GET", "/openapi.json")
    except UpstreamUnavailable as exc:
        raise ProblemError(
            503, "upstream_unavailable", "后端服务暂不可用", f"{service} did not answer"
        ) from exc
    return answer.status, json.loads(answer.body)
