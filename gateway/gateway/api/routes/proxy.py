"""/api/v1/<service>/...: routed to the service of that name."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from gateway.api.deps import CallerDep, ForwarderDep
from gateway.routing.calls import require_known
from gateway.settings import SERVICES

router = APIRouter(tags=["routing"])

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


async def forward(
    service: str, rest: str, request: Request, caller: CallerDep, forwarder: ForwarderDep
) -> Response:
    require_known(service)
    return await forwarder.forward(request, service=service, principal=caller)


for _method in METHODS:
    router.add_api_route(
        "/api/v1/{service}/{rest:path}",
        forward,
        methods=[_method],
        operation_id=f"forward_{_method.lower()}",
        summary=f"Forward a {_method} to a service",
        description="Services: " + ", ".join(SERVICES),
    )
