"""Bad input at the gateway gets a 4xx problem+json, never a 500, and an error never
breaks the client's connection: control characters and dot segments in paths, bytes
outside ASCII in headers and queries, trailing slashes, services' redirects to their
internal address, and an unexpected error, over a real uvicorn server with one
keep-alive connection. The behaviour does not depend on the database: SQLite only."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

from gateway.identity.principal import Principal
from gateway.routing.upstreams import (
    AsgiUpstream,
    HttpUpstream,
    Upstream,
    UpstreamRequest,
    UpstreamRequestInvalid,
    UpstreamResponse,
)
from gateway.tests.conftest import api_keys, gateway_client, parts
from yiwang_platform.testing import running

pytestmark = pytest.mark.parametrize("backend", ["sqlite-inprocess"], indirect=True)

KEY = "operator-key-for-edge-tests"
API_KEYS = api_keys({KEY: Principal("op-1", "operator", roles=("operator",))})


def _echo() -> FastAPI:
    """A stand-in service: says which path and query reached it, or redirects."""
    app = FastAPI(redirect_slashes=False)

    @app.get("/api/v1/license/moved")
    async def moved() -> RedirectResponse:
        return RedirectResponse("http://in-process/api/v1/license/here?x=1", status_code=307)

    @app.get("/api/v1/license/away")
    async def away() -> RedirectResponse:
        return RedirectResponse("https://elsewhere.example/x", status_code=302)

    @app.get("/api/v1/license/download")
    async def download() -> Response:
        # A raw UTF-8 file name, as some clients expect it.
        disposition = 'attachment; filename="证照.pdf"'.encode().decode("latin-1")
        return Response(b"%PDF", headers={"content-disposition": disposition})

    @app.get("/api/v1/license/boom")
    async def boom() -> None:
        raise RuntimeError("the service's own failure")

    # As the platform's services do: answered by Starlette's outermost middleware, which
    # then re-raises.
    @app.exception_handler(Exception)
    async def failed(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"code": "service_failed"}, status_code=500)

    @app.api_route("/api/v1/license/{rest:path}", methods=["GET", "POST"])
    async def echo(request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "path": request.scope["path"],
                "query": request.scope["query_string"].decode("latin-1"),
                "x_foo": request.headers.get("x-foo"),
            }
        )

    return app


class Exploding(Upstream):
    """A service call that fails in a way nobody planned for."""

    async def forward(self, request: UpstreamRequest) -> UpstreamResponse:
        raise RuntimeError("unplanned")


async def _apps(service_app, gateway_app):
    service = await service_app("matters", seed_catalogue=False)
    front = await gateway_app(
        {"matters": service, "license": _echo()},
        upstreams={"supervision": Exploding()},
        api_keys=API_KEYS,
    )
    return service, front


@contextlib.asynccontextmanager
async def _gateway(service_app, gateway_app) -> AsyncIterator[httpx.AsyncClient]:
    service, front = await _apps(service_app, gateway_app)
    async with running(service), running(front), gateway_client(front, **{"X-Api-Key": KEY}) as api:
        yield api


def _raw_disposition(answer: httpx.Response) -> bytes:
    assert answer.status_code == 200, answer.text
    return dict(answer.headers.raw)[b"content-disposition"]


def _problem(answer: httpx.Response) -> tuple[int, str]:
    assert answer.headers["content-type"] == "application/problem+json", answer.text
    return answer.status_code, answer.json()["code"]


@pytest.mark.parametrize("byte", ["%00", "%01", "%0a", "%0d", "%1f", "%7f", "%c2%85"])
async def test_a_control_character_in_the_path_is_refused_before_forwarding(
    service_app, gateway_app, byte
):
    async with _gateway(service_app, gateway_app) as api:
        answer = await api.get(f"/api/v1/license/abc{byte}def")
        assert _problem(answer) == (400, "invalid_path")
        # Also where no route matches (the gateway's router never answers in plain text).
        assert _problem(await api.get(f"/nowhere{byte}")) == (400, "invalid_path")


async def test_dot_segments_are_refused_so_the_service_sees_the_decided_path(
    service_app, gateway_app
):
    async with _gateway(service_app, gateway_app) as api:
        for path in ("abc%2F..%2F..%2Fintake/cases", "a%2F%2e%2e%2Fb", "a%2F.%2Fb"):
            answer = await api.get(f"/api/v1/license/{path}")
            assert _problem(answer) == (400, "invalid_path"), path
        # Encoded "?", "#" and "%" stay part of the path; the query stays the query.
        echoed = await api.get("/api/v1/license/a%3Fb%23c%25zz%20d?q=1")
        assert echoed.json()["path"] == "/api/v1/license/a?b#c%zz d"
        assert echoed.json()["query"] == "q=1"


async def test_routers_answer_404_and_405_as_problem_json(service_app, gateway_app):
    async with _gateway(service_app, gateway_app) as api:
        assert _problem(await api.get("/nowhere")) == (404, "not_found")
        assert _problem(await api.get("/api/v1/nowhere/x")) == (404, "not_found")
        assert _problem(await api.request("OPTIONS", "/api/v1/matters/matters")) == (
            405,
            "method_not_allowed",
        )


async def test_a_trailing_slash_is_404_and_no_internal_location_leaks(service_app, gateway_app):
    async with _gateway(service_app, gateway_app) as api:
        slash = await api.get("/api/v1/matters/matters/")
        assert _problem(slash) == (404, "not_found")
        assert "location" not in slash.headers

        moved = await api.get("/api/v1/license/moved")
        assert moved.status_code == 307
        assert moved.headers["location"] == "/api/v1/license/here?x=1"
        away = await api.get("/api/v1/license/away")
        assert away.headers["location"] == "https://elsewhere.example/x"


async def test_bytes_outside_ascii_in_headers_and_query_are_not_a_500(service_app, gateway_app):
    async with _gateway(service_app, gateway_app) as api:
        echoed = await api.get("/api/v1/license/x", headers={"X-Foo": b"caf\xe9\xff"})
        assert echoed.status_code == 200
        assert echoed.json()["x_foo"] == "caf\xe9\xff"
        download = await api.get("/api/v1/license/download")
        assert _raw_disposition(download) == 'attachment; filename="证照.pdf"'.encode()
        keyed = await api.post(
            "/api/v1/matters/matters", json={}, headers={"Idempotency-Key": b"\xff\xfe"}
        )
        assert keyed.status_code < 500, keyed.text


@pytest.mark.parametrize("value", ["²", "9" * 30, "-1", "1e3"])
async def test_an_audit_cursor_out_of_range_is_400(service_app, gateway_app, value):
    cursor = base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")
    async with _gateway(service_app, gateway_app) as api:
        answer = await api.get("/api/v1/gateway/audit", params={"cursor": cursor})
        assert _problem(answer) == (400, "invalid_cursor")


async def _raw_get(
    front: FastAPI, path: str, query: bytes, *headers: tuple[bytes, bytes]
) -> tuple[int, dict[str, Any]]:
    """A GET by hand: HTTP clients percent-encode what a raw socket need not."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": [(b"host", b"gw"), (b"x-api-key", KEY.encode()), *headers],
        "client": ("127.0.0.1", 5000),
        "server": ("gw", 80),
    }
    await front(scope, receive, send)
    return sent[0]["status"], json.loads(b"".join(m.get("body", b"") for m in sent[1:]))


async def test_a_query_that_is_not_utf8_is_refused(service_app, gateway_app):
    service, front = await _apps(service_app, gateway_app)
    async with running(service), running(front):
        status, body = await _raw_get(front, "/api/v1/license/x", b"q=\xff\xfe")
    assert (status, body["code"]) == (400, "invalid_query")


async def test_an_odd_content_length_is_not_a_500(service_app, gateway_app):
    service, front = await _apps(service_app, gateway_app)
    async with running(service), running(front):
        status, _ = await _raw_get(front, "/api/v1/license/x", b"", (b"content-length", b"\xb2"))
    assert status == 200


async def test_the_service_gets_the_path_and_query_the_gateway_decided_on(service_app, gateway_app):
    """Over HTTP (the distributed upstream): a decoded "?" stays in the path, a raw
    query is encoded instead of being refused by the service as an invalid request."""
    service, front = await _apps(service_app, gateway_app)
    async with _serving(_echo()) as url:
        remote = HttpUpstream(url, 5)
        forwarded: dict[str, Upstream] = {"license": remote}
        async with running(service), running(front):
            parts(front).services.upstreams.update(forwarded)
            status, body = await _raw_get(front, "/api/v1/license/a?b c", "q=中 文&r=%41".encode())
            async with gateway_client(front, **{"X-Api-Key": KEY}) as api:
                download = await api.get("/api/v1/license/download")
        await remote.close()
    assert _raw_disposition(download) == 'attachment; filename="证照.pdf"'.encode()
    assert status == 200, body
    assert body["path"] == "/api/v1/license/a?b c"
    assert body["query"] == "q=%E4%B8%AD%20%E6%96%87&r=%41"


@contextlib.asynccontextmanager
async def _serving(app: FastAPI) -> AsyncIterator[str]:
    """``app`` on a real uvicorn server on a free port (its lifespan included): its URL."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, access_log=False)
    )
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if serving.done():
                serving.result()
            await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        await serving


async def test_upstreams_refuse_what_cannot_go_on_the_wire(backend):
    echo = AsgiUpstream(_echo(), 5)
    try:
        with pytest.raises(UpstreamRequestInvalid):
            await echo.send("GET", "/api/v1/license/a\x00b")
    finally:
        await echo.close()
    async with _serving(_echo()) as url:
        remote = HttpUpstream(url, 5)
        try:
            with pytest.raises(UpstreamRequestInvalid):
                await remote.send("GET", "/api/v1/license/x", headers=[("x-foo", "a\r\nb: c")])
            # What the gateway forwards is sent as it is: no dot segment folded.
            answer = await remote.send("GET", "/api/v1/license/a%2F..%2Fb%00")
            assert json.loads(answer.body)["path"] == "/api/v1/license/a/../b\x00"
        finally:
            await remote.close()


async def test_errors_never_break_the_keep_alive_connection(service_app, gateway_app, caplog):
    service, front = await _apps(service_app, gateway_app)
    async with running(service), _serving(front) as url:
        async with httpx.AsyncClient(
            base_url=url, headers={"X-Api-Key": KEY}, limits=httpx.Limits(max_connections=1)
        ) as api:
            first = await api.get("/api/v1/license/abc%00def")
            assert _problem(first) == (400, "invalid_path")
            with caplog.at_level(logging.ERROR):
                failed = await api.get("/api/v1/supervision/anything")
            assert _problem(failed) == (500, "internal_error")
            # A service's own 500 passes as the service answered it.
            theirs = await api.get("/api/v1/license/boom")
            assert (theirs.status_code, theirs.json()["code"]) == (500, "service_failed")
            after = await api.get("/api/v1/license/still-here")
            assert after.status_code == 200, after.text

            # All over the one connection the client opened.
            peers = {
                r.extensions["network_stream"].get_extra_info("client_addr")
                for r in (first, failed, theirs, after)
            }
            assert len(peers) == 1
