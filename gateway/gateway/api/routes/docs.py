"""API documentation of every service, served through the gateway."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse

from gateway.api.deps import ServicesDep
from gateway.routing.calls import require_known, service_openapi

router = APIRouter(include_in_schema=False)


@router.get("/docs/{service}")
async def service_docs(service: str) -> HTMLResponse:
    require_known(service)
    return get_swagger_ui_html(
        openapi_url=f"/openapi/{service}.json", title=f"Yiwang {service} API"
    )


@router.get("/openapi/{service}.json")
async def service_openapi_document(service: str, services: ServicesDep) -> JSONResponse:
    require_known(service)
    status, document = await service_openapi(services, service)
    return JSONResponse(document, status_code=status)
