"""RFC 9457 problem+json errors with a stable ``code`` and a Chinese ``title``
(English when the client asks for it with ``Accept-Language``)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import Counter
from sqlalchemy.exc import DataError, DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from yiwang_platform.db import is_unavailable
from yiwang_platform.masking import mask

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"

# Titles for the codes the platform itself raises; services pass their own.
_TITLES: dict[str, tuple[str, str]] = {
    "bad_request": ("请求有误", "Bad request"),
    "validation_failed": ("请求参数校验失败", "Request validation failed"),
    "unauthenticated": ("未认证或凭证无效", "Not authenticated"),
    "forbidden": ("无权访问", "Forbidden"),
    "not_found": ("资源不存在", "Not found"),
    "method_not_allowed": ("不支持的请求方法", "Method not allowed"),
    "conflict": ("资源冲突", "Conflict"),
    "too_many_requests": ("请求过于频繁", "Too many requests"),
    "upstream_unavailable": ("后端服务暂不可用", "Upstream service unavailable"),
    "dependency_unavailable": ("所依赖的服务暂不可用，请稍后重试", "A dependency is unavailable"),
    "internal_error": ("系统内部错误", "Internal error"),
}

_STATUS_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    422: "validation_failed",
    429: "too_many_requests",
    502: "upstream_unavailable",
    503: "upstream_unavailable",
}


# How long a client should wait before retrying when the database is unreachable: about
# what a PostgreSQL restart or a fail-over takes.
RETRY_AFTER_SECONDS = 5

DEPENDENCY_UNAVAILABLE = Counter(
    "yiwang_dependency_unavailable_total",
    "Requests answered 503 because the database (or a connection it needs) was unreachable",
)


class _Throttled:
    """One warning per ``interval`` for a repeated condition, with the count in between,
    so an outage under load writes a few lines rather than one per request."""

    def __init__(self, interval: float = 10.0) -> None:
        self.interval = interval
        self._last = float("-inf")
        self._suppressed = 0

    def warn(self, message: str, *args: Any) -> None:
        now = time.monotonic()
        if now - self._last < self.interval:
            self._suppressed += 1
            return
        suppressed, self._suppressed, self._last = self._suppressed, 0, now
        log.warning(message + " (%d more since the last warning)", *args, suppressed)


_unavailable_log = _Throttled()


class ProblemError(Exception):
    """Raise from domain code for a client error with a stable code."""

    def __init__(
        self,
        status: int,
        code: str,
        title: str,
        detail: str | None = None,
        title_en: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.code = code
        self.title = title
        self.title_en = title_en
        self.detail = detail
        self.headers = headers
        self.extra = extra


def _wants_english(request: Request) -> bool:
    return request.headers.get("accept-language", "").lower().startswith("en")


def problem_response(
    request: Request,
    status: int,
    *,
    code: str,
    title: str | None = None,
    detail: str | None = None,
    title_en: str | None = None,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    zh, en = _TITLES.get(code, (title or code, title_en or title or code))
    chosen = (title_en or en) if _wants_english(request) else (title or zh)
    body: dict[str, Any] = {
        "type": f"urn:yiwang:problem:{code}",
        "title": chosen,
        "status": status,
        "code": code,
        "instance": request.url.path,
    }
    if detail:
        body["detail"] = mask(detail)
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def refused_value(exc: BaseException) -> bool:
    """Whether the database (or its driver, before sending) refused a value of the request:
    SQLite's and asyncpg's integer overflow, PostgreSQL's data exceptions (class 22)."""
    pending: list[BaseException] = [exc]
    seen: list[BaseException] = []
    # The chain is short: SQLAlchemy's error, the adapter's, the driver's.
    while pending and len(seen) < 8:
        error = pending.pop()
        seen.append(error)
        # asyncpg's client-side DataError (e.g. "value out of int32 range") is a ValueError;
        # its server errors carry the SQLSTATE (class 22: data exception, e.g. a NUL byte).
        if (
            isinstance(error, OverflowError | DataError)
            or (type(error).__name__ == "DataError" and isinstance(error, ValueError))
            or str(getattr(error, "sqlstate", "") or "").startswith("22")
        ):
            return True
        for nxt in (getattr(error, "orig", None), error.__cause__):
            if isinstance(nxt, BaseException) and not any(nxt is s for s in seen):
                pending.append(nxt)
    return False


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError) -> JSONResponse:
        return problem_response(
            request,
            exc.status,
            code=exc.code,
            title=exc.title,
            detail=exc.detail,
            title_en=exc.title_en,
            headers=exc.headers,
            **exc.extra,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(
            exc.status_code, "bad_request" if exc.status_code < 500 else "internal_error"
        )
        detail = exc.detail if isinstance(exc.detail, str) else None
        return problem_response(
            request, exc.status_code, code=code, detail=detail, headers=exc.headers
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "loc": [str(p) for p in e.get("loc", ())],
                "msg": mask(str(e.get("msg", ""))),
                "type": e.get("type"),
            }
            for e in exc.errors()
        ]
        return problem_response(request, 422, code="validation_failed", errors=errors)

    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # A value the database cannot hold (an integer past its column's range, a NUL byte
        # in text) is the client's input, not a fault of the service.
        if refused_value(exc):
            log.info("value refused by the database on %s %s", request.method, request.url.path)
            return problem_response(
                request,
                400,
                code="value_out_of_range",
                title="请求中的值超出允许范围",
                title_en="A value in the request is out of range",
            )
        if is_unavailable(exc):
            DEPENDENCY_UNAVAILABLE.inc()
            # One line with the error's type, no stack: the cause is outside this process.
            _unavailable_log.warn(
                "dependency unavailable on %s %s: %s",
                request.method,
                request.url.path,
                type(exc).__name__,
            )
            return problem_response(
                request,
                503,
                code="dependency_unavailable",
                detail="the database or another dependency is unreachable; retry later",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(request, 500, code="internal_error")

    # Database and connection errors are answered where they are raised (the handlers of
    # specific classes), so that no server re-raises and logs them with a full stack; the
    # catch-all still classifies what escapes from middleware.
    for error in (DBAPIError, OverflowError, PoolTimeout, ConnectionError, TimeoutError):
        app.add_exception_handler(error, _unexpected)
    app.add_exception_handler(Exception, _unexpected)


# ---- the problem answers in every route's OpenAPI --------------------------------------------

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details with a stable `code`.",
    "type": "object",
    "required": ["type", "title", "status", "code", "instance"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "code": {"type": "string"},
        "instance": {"type": "string"},
        "detail": {"type": "string"},
        "errors": {"type": "array", "items": {}},
    },
    "additionalProperties": True,
}
_PROBLEM_CONTENT = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}

# What any route can answer through the gateway before or besides its own code:
# bad input, authentication, authorisation, unknown path or id, rate limit, an
# unavailable upstream or database.
_COMMON_STATUSES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    422: "Request validation failed",
    429: "Too many requests",
    503: "Service unavailable (retry after `Retry-After`)",
}
# ...and a request that changes something: a body too large, a conflicting state or
# idempotency key.
_WRITE_STATUSES = {409: "Conflict", 413: "Payload too large"}
_UNDOCUMENTED_PATHS = {"/healthz", "/readyz", "/metrics"}


def document_problems(app: FastAPI) -> None:
    """Add the problem+json answers every route can give to the app's OpenAPI, and make
    each error status a route declares itself answer problem+json too."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            _add_problems(build())
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]


def _add_problems(doc: dict[str, Any]) -> None:
    for path, operations in doc.get("paths", {}).items():
        if path in _UNDOCUMENTED_PATHS:
            continue
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            statuses = dict(_COMMON_STATUSES)
            if method != "get":
                statuses.update(_WRITE_STATUSES)
            for status, description in statuses.items():
                responses.setdefault(str(status), {"description": description})
            for status, response in responses.items():
                if not status.isdigit() or int(status) < 400:
                    continue
                content = response.setdefault("content", {})
                # FastAPI's own 422 (application/json HTTPValidationError) is never sent:
                # validation errors answer problem+json.
                default = content.get("application/json", {}).get("schema", {}).get("$ref", "")
                if default.endswith("/HTTPValidationError"):
                    del content["application/json"]
                content[PROBLEM_JSON] = _PROBLEM_CONTENT[PROBLEM_JSON]
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    if "HTTPValidationError" not in json.dumps(doc.get("paths", {})):
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
