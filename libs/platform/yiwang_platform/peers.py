"""Calls from one service to another inside a request, on the caller's behalf.

The gateway mints the caller's internal token for the target service and the peers
that service may call for it (a list audience), so a service forwards the token it
was given: the peer sees the same principal, scenario and field grant, and enforces
them itself. Every call has a timeout and a few retries for reads; a peer that does
not answer becomes a clear 503, never a 500.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx

from yiwang_platform.errors import ProblemError
from yiwang_platform.tracing import current_traceparent

log = logging.getLogger(__name__)

RETRIED_METHODS = {"GET", "HEAD"}


class PeerClient:
    """One peer service, reached over HTTP (distributed) or an in-process ASGI app."""

    def __init__(
        self,
        name: str,
        base_url: str,
        timeout: float = 5.0,
        retries: int = 2,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.name = name
        self.retries = retries
        self._client = httpx.AsyncClient(base_url=base_url, timeout=timeout, transport=transport)

    async def close(self) -> None:
        await self._client.aclose()

    async def call(
        self, method: str, path: str, *, token: str, json: Any = None
    ) -> tuple[int, Any]:
        """Send the request with the caller's ``token``; returns (status, decoded JSON body)."""
        headers = {"authorization": f"Bearer {token}", "accept": "application/json"}
        traceparent = current_traceparent()
        if traceparent:
            headers["traceparent"] = traceparent
        attempts = 1 + (self.retries if method in RETRIED_METHODS else 0)
        for attempt in range(attempts):
            try:
                response = await self._client.request(method, path, headers=headers, json=json)
            except (httpx.TransportError, TimeoutError) as exc:
                log.warning("peer %s %s %s failed: %s", self.name, method, path, type(exc).__name__)
                if attempt + 1 < attempts:
                    await asyncio.sleep(0.1 * 2**attempt)
                    continue
                raise peer_unavailable(self.name) from exc
            if response.status_code >= 500 and attempt + 1 < attempts:
                await asyncio.sleep(0.1 * 2**attempt)
                continue
            if response.status_code >= 500:
                raise peer_unavailable(self.name)
            try:
                body = response.json() if response.content else None
            except ValueError as exc:
                raise peer_unavailable(self.name) from exc
            return response.status_code, body
        raise peer_unavailable(self.name)  # pragma: no cover - the loop always returns or raises


def peer_unavailable(name: str) -> ProblemError:
    return ProblemError(
        503,
        "peer_unavailable",
        "依赖的服务暂不可用，请稍后重试",
        detail=f"the {name} service did not answer",
        title_en="A service this request needs is unavailable",
        headers={"Retry-After": "2"},
    )


def bearer_token(authorization: str) -> str:
    scheme, _, token = authorization.partition(" ")
    return token if scheme.lower() == "bearer" else ""
