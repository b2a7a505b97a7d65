"""/api/v1/<service>/...: routed to the service of that name."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from gateway.access_log import record_refusal
from gateway.api.deps import CallerDep
from gateway.proxy import Forwarder
from gateway.settings import SERVICES
from yiwang_platform.errors import ProblemError

router = APIRouter(tags=["routing"])

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


async def forward(service: str, rest: str, request: Request, caller: CallerDep) -> Response:
    if service not in SERVICES:
        raise ProblemError(404, "not_found", "资源不存在", f"no service named {service}")
    forwarder: Forwarder = request.app.state.forwarder
    try:
        return await forwarder.forward(request, service, caller)
    except ProblemError as refused:  # 403 scenario, 429 rate limit, 413, ...: audited
        await record_refusal(request, caller, service, refused)
        raise


for _method in METHODS:
    router.add_api_route(
        "/api/v1/{service}/{rest:path}",
        forward,
        methods=[_method],
        operation_id=f"forward_{_method.lower()}",
        summary=f"Forward a {_method} to a service",
        description="Services: " + ", ".join(SERVICES),
    )
