"""/api/v1/me/...: the caller's own things, answered by a service.

``GET /api/v1/me/access-log`` — the 数据使用记录: who read the citizen's data in the
data libraries, under which scenario and which fields; forwarded to data-exchange's
``/api/v1/data-exchange/access-log/mine`` (which selects by the caller's own subject, so no
parameter can name another person).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from gateway.api.deps import CallerDep, ForwarderDep
from gateway.routing.proxy import forward_own_access_log

router = APIRouter(prefix="/api/v1/me", tags=["me"])


@router.get(
    "/access-log",
    summary="Who accessed my data, why and which fields (citizens), newest first",
    responses={200: {"description": "a page of access-log entries (see data-exchange)"}},
)
async def my_access_log(
    request: Request,
    caller: CallerDep,
    forwarder: ForwarderDep,
    # Passed on in the query as they came; declared here for the API documentation.
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Response:
    return await forward_own_access_log(request, forwarder=forwarder, principal=caller)
