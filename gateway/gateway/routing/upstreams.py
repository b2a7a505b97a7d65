"""How the gateway reaches a service: over HTTP with aiohttp (distributed run; it is
several times faster than httpx as a proxy client) or in-process through the
service's ASGI app (standalone run)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import aiohttp
import httpx
from fastapi import FastAPI
from yarl import URL


class UpstreamUnavailable(Exception):
    """The service did not answer (refused, reset or timed out)."""


class UpstreamRequestInvalid(Exception):
    """The request cannot be put on the wire (a URL or header the client refuses): the
    caller's input, never a reason for a 500."""


@dataclass(frozen=True)
class UpstreamResponse:
    status: int
    # Decoded as latin-1, as ASGI does: the service's bytes pass on unchanged (a raw
    # UTF-8 file name in Content-Disposition included).
    headers: list[tuple[str, str]]
    body: bytes


def _latin1(raw: Iterable[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in raw]


@dataclass(frozen=True)
class UpstreamRequest:
    method: str
    # The path and query as given (already percent-encoded).
    target: str
    headers: Sequence[tuple[str, str]]
    body: bytes


class Upstream(ABC):
    # Scheme and host the service's own absolute URLs (e.g. in Location) start with.
    origin: str = ""

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def send(
        self,
        method: str,
        path: str,
        *,
        query: str = "",
        headers: Sequence[tuple[str, str]] = (),
        body: bytes = b"",
    ) -> UpstreamResponse:
        target = path + (f"?{query}" if query else "")
        return await self.forward(UpstreamRequest(method, target, headers, body))

    @abstractmethod
    async def forward(self, request: UpstreamRequest) -> UpstreamResponse: ...


class HttpUpstream(Upstream):
    def __init__(self, base_url: str, timeout: float) -> None:
        self.base_url = base_url.rstrip("/")
        self.origin = str(URL(self.base_url).origin())
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        connector = aiohttp.TCPConnector(limit=256, keepalive_timeout=30)
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=self.timeout),
            auto_decompress=False,
            skip_auto_headers=("User-Agent", "Accept-Encoding"),
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def forward(self, request: UpstreamRequest) -> UpstreamResponse:
        if self._session is None:
            await self.start()
        assert self._session is not None
        try:
            # Sent as given (already percent-encoded): no re-quoting, no dot-segment folding.
            url = URL(f"{self.base_url}{request.target}", encoded=True)
            async with self._session.request(
                request.method,
                url,
                headers=list(request.headers),
                data=request.body or None,
                allow_redirects=False,
            ) as response:
                content = await response.read()
                return UpstreamResponse(response.status, _latin1(response.raw_headers), content)
        except aiohttp.InvalidURL as exc:
            raise UpstreamRequestInvalid(str(exc)) from exc
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise UpstreamUnavailable(type(exc).__name__) from exc
        except ValueError as exc:  # a control character in a URL or a header
            raise UpstreamRequestInvalid(str(exc)) from exc


class AsgiUpstream(Upstream):
    origin = "http://in-process"

    def __init__(self, app: FastAPI, timeout: float) -> None:
        # A service's own error answer (its 500 problem+json) is passed on as over HTTP;
        # Starlette re-raises after answering, which must not become the gateway's error.
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        self._client = httpx.AsyncClient(transport=transport, base_url=self.origin, timeout=timeout)

    async def close(self) -> None:
        await self._client.aclose()

    async def forward(self, request: UpstreamRequest) -> UpstreamResponse:
        try:
            # Header values as the bytes that came in (ASGI headers are latin-1).
            raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in request.headers]
            response = await self._client.request(
                request.method, request.target, headers=raw, content=request.body
            )
        except (httpx.TransportError, TimeoutError) as exc:
            raise UpstreamUnavailable(type(exc).__name__) from exc
        except (httpx.InvalidURL, ValueError) as exc:  # UnicodeError is a ValueError
            raise UpstreamRequestInvalid(str(exc)) from exc
        return UpstreamResponse(
            response.status_code, _latin1(response.headers.raw), response.content
        )
