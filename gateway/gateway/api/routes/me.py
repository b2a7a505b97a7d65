"""/api/v1/me/...: the caller's own things, answered by a service.

``GET /api/v1/me/access-log`` — the 数据使用记录: who read the citizen's data in the
data libraries, under which scenario and which fields; forwarded to data-exchange's
``/api/v1/data-exchange/access-log/mine`` (which selects by the caller's own subject, so no
parameter can name another person).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from gateway.access_log import record_decision, record_refusal
from gateway.api.deps import CallerDep
from gateway.proxy import Forwarder
from yiwang_platform.errors import ProblemError

router = APIRouter(prefix="/api/v1/me", tags=["me"])

EXCHANGE_ACCESS_LOG = "/api/v1/data-exchange/access-log/mine"


def _to(request: Request, path: str) -> Request:
    scope = dict(request.scope)
    scope["path"] = path
    scope["raw_path"] = path.encode()
    return Request(scope, request.receive)


@router.get(
    "/access-log",
    summary="Who accessed my data, why and which fields (citizens), newest first",
    responses={200: {"description": "a page of access-log entries (see data-exchange)"}},
)
async def my_access_log(
    request: Request,
    caller: CallerDep,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Response:
    if caller.principal_type != "citizen":
        await record_decision(
            request, caller, service="data-exchange", status=403, reason="forbidden"
        )
        raise ProblemError(403, "forbidden", "无权访问", "the access log is a citizen's own")
    forwarder: Forwarder = request.app.state.forwarder
    try:
        return await forwarder.forward(_to(request, EXCHANGE_ACCESS_LOG), "data-exchange", caller)
    except ProblemError as refused:
        await record_refusal(request, caller, "data-exchange", refused)
        raise
