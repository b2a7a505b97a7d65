"""The gateway's edge: requests refused before routing, and the last resort for errors.

Refused with 400 problem+json before any route sees them: a control character in the
decoded path (``%00``, ``%0a``, ``%7f``, ...: no route or service has a use for one,
and HTTP clients refuse to send them on), a ``.`` or ``..`` segment (the HTTP clients
that forward fold them, so the service would answer another path than the one the
scenario decision was made for — ``abc%2F..%2F..%2Fcases``), and a query string that
is not UTF-8.

An unexpected exception is answered 500 problem+json here instead of in Starlette's
outermost middleware, which re-raises it after answering: uvicorn then closes the
connection, and the client's next request on it fails with a reset.
"""

from __future__ import annotations

import logging
import re

from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from yiwang_platform.errors import problem_response
from yiwang_platform.masking import mask

log = logging.getLogger(__name__)

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def refusal(scope: Scope) -> tuple[str, str, str] | None:
    """(code, Chinese title, English title) when the request is refused at the edge."""
    path: str = scope["path"]
    if _CONTROL.search(path) or any(s in (".", "..") for s in path.split("/")):
        return "invalid_path", "请求路径无效", "Invalid request path"
    try:
        scope.get("query_string", b"").decode("utf-8")
    except UnicodeDecodeError:
        return "invalid_query", "查询参数无效", "Invalid query string"
    return None


class EdgeGuard:
    """Plain ASGI (no task or stream per request)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refused = refusal(scope)
        if refused is not None:
            code, zh, en = refused
            # Without the query: a query that is not UTF-8 cannot even be read back.
            request = Request({**scope, "query_string": b""})
            answer = problem_response(request, 400, code=code, title=zh, title_en=en)
            await answer(scope, receive, send)
            return
        started = complete = False

        async def tracked(message: Message) -> None:
            nonlocal started, complete
            if message["type"] == "http.response.start":
                started = True
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                complete = True
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception:
            log.exception("unhandled error on %s %s", scope["method"], mask(scope["path"]))
            if not started:
                await problem_response(Request(scope), 500, code="internal_error")(
                    scope, receive, send
                )
            elif not complete:
                raise  # a response cut short: only closing the connection tells the client
