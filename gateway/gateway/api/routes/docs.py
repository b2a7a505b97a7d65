"""API documentation of every service, served through the gateway."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse

from gateway.settings import SERVICES
from gateway.upstreams import Upstream, UpstreamUnavailable
from yiwang_platform.errors import ProblemError

router = APIRouter(include_in_schema=False)


def _known(service: str) -> None:
    if service not in SERVICES:
        raise ProblemError(404, "not_found", "资源不存在", f"no service named {service}")


@router.get("/docs/{service}")
async def service_docs(service: str) -> HTMLResponse:
    _known(service)
    return get_swagger_ui_html(
        openapi_url=f"/openapi/{service}.json", title=f"Yiwang {service} API"
    )


@router.get("/openapi/{service}.json")
async def service_openapi(service: str, request: Request) -> JSONResponse:
    _known(service)
    upstream: Upstream = request.app.state.forwarder.upstreams[service]
    try:
        answer = await upstream.send("GET", "/openapi.json", "", [], b"")
    except UpstreamUnavailable as exc:
        raise ProblemError(
            503, "upstream_unavailable", "后端服务暂不可用", f"{service} did not answer"
        ) from exc
    return JSONResponse(json.loads(answer.body), status_code=answer.status)
