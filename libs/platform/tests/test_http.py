"""Observability middleware and problem+json error handlers on bare FastAPI apps."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import REGISTRY
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError

from yiwang_platform import tracing
from yiwang_platform.errors import ProblemError, document_problems, install_problem_handlers
from yiwang_platform.observability import install_tracing_and_metrics

ID_NUMBER = "110101199003071234"
TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$")


def client(app: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://test")


# ---- tracing and metrics ------------------------------------------------------------------


@pytest.fixture
def service() -> str:
    """A service name of its own, so the metric samples of each test start at zero."""
    return f"svc-{uuid.uuid4().hex[:8]}"


@pytest.fixture
async def observed(service: str) -> AsyncIterator[httpx.AsyncClient]:
    tracing.configure("test")
    app = FastAPI()
    install_tracing_and_metrics(app, service)

    @app.get("/items/{item_id}")
    async def get_item(item_id: int) -> dict[str, object]:
        return {"id": item_id, "trace_id": tracing.current_trace_id()}

    async with client(app) as c:
        yield c


def requests_total(service: str, route: str, status: str, method: str = "GET") -> float | None:
    return REGISTRY.get_sample_value(
        "yiwang_http_requests_total",
        {"service": service, "method": method, "route": route, "status": status},
    )


async def test_response_carries_the_traceparent_of_the_server_span(
    observed: httpx.AsyncClient,
) -> None:
    response = await observed.get("/items/7")

    assert response.status_code == 200
    match = TRACEPARENT.match(response.headers["traceparent"])
    assert match is not None
    assert response.json() == {"id": 7, "trace_id": match.group(1)}


async def test_each_request_without_traceparent_starts_a_new_trace(
    observed: httpx.AsyncClient,
) -> None:
    first = await observed.get("/items/1")
    second = await observed.get("/items/2")

    first_trace = TRACEPARENT.match(first.headers["traceparent"])
    second_trace = TRACEPARENT.match(second.headers["traceparent"])
    assert first_trace is not None and second_trace is not None
    assert first_trace.group(1) != second_trace.group(1)


async def test_incoming_traceparent_continues_the_trace(observed: httpx.AsyncClient) -> None:
    trace_id = uuid.uuid4().hex
    parent_span = uuid.uuid4().hex[:16]

    response = await observed.get(
        "/items/7", headers={"traceparent": f"00-{trace_id}-{parent_span}-01"}
    )

    match = TRACEPARENT.match(response.headers["traceparent"])
    assert match is not None
    assert match.group(1) == trace_id
    assert match.group(2) != parent_span
    assert response.json()["trace_id"] == trace_id


async def test_requests_are_counted_by_route_template_and_status(
    observed: httpx.AsyncClient, service: str
) -> None:
    assert requests_total(service, "/items/{item_id}", "200") is None

    await observed.get("/items/1")
    await observed.get("/items/2")
    await observed.get("/items/not-a-number")
    await observed.get("/nowhere")

    assert requests_total(service, "/items/{item_id}", "200") == 2
    assert requests_total(service, "/items/{item_id}", "422") == 1
    assert requests_total(service, "unmatched", "404") == 1
    assert (
        REGISTRY.get_sample_value(
            "yiwang_http_request_seconds_count",
            {"service": service, "method": "GET", "route": "/items/{item_id}"},
        )
        == 3
    )


# ---- problem+json -------------------------------------------------------------------------


class Applicant(BaseModel):
    id_number: str
    age: int


@pytest.fixture
async def problems() -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/matters/{matter_id}")
    async def get_matter(matter_id: str) -> dict[str, str]:
        raise ProblemError(
            404,
            "matter_not_found",
            "事项不存在",
            detail=f"事项 {matter_id} 不存在,申请人电话 13812345678",
            title_en="Matter not found",
        )

    @app.get("/platform-code")
    async def platform_code() -> dict[str, str]:
        raise ProblemError(404, "not_found", "资源不存在")

    @app.get("/busy")
    async def busy() -> dict[str, str]:
        raise ProblemError(
            429, "too_many_requests", "请求过于频繁", headers={"Retry-After": "3"}, limit=10
        )

    @app.post("/applicants")
    async def create_applicant(applicant: Applicant) -> dict[str, str]:
        return {"ok": "yes"}

    @app.get("/boom")
    async def boom() -> dict[str, str]:
        raise RuntimeError(f"database password hunter2 for {ID_NUMBER}")

    async with client(app) as c:
        yield c


async def test_problem_error_becomes_problem_json(problems: httpx.AsyncClient) -> None:
    response = await problems.get("/matters/m-1")

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "type": "urn:yiwang:problem:matter_not_found",
        "title": "事项不存在",
        "status": 404,
        "code": "matter_not_found",
        "instance": "/matters/m-1",
        "detail": "事项 m-1 不存在,申请人电话 138****5678",
    }


@pytest.mark.parametrize(
    ("accept_language", "title"),
    [
        ("en", "Matter not found"),
        ("en-US,en;q=0.9", "Matter not found"),
        ("EN-GB", "Matter not found"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "事项不存在"),
        ("fr", "事项不存在"),
    ],
)
async def test_accept_language_chooses_the_title(
    problems: httpx.AsyncClient, accept_language: str, title: str
) -> None:
    response = await problems.get("/matters/m-1", headers={"Accept-Language": accept_language})

    assert response.json()["title"] == title
    assert response.json()["code"] == "matter_not_found"


async def test_platform_codes_have_an_english_title(problems: httpx.AsyncClient) -> None:
    chinese = await problems.get("/platform-code")
    english = await problems.get("/platform-code", headers={"Accept-Language": "en"})

    assert chinese.json()["title"] == "资源不存在"
    assert english.json()["title"] == "Not found"


async def test_problem_error_headers_and_extra_members(problems: httpx.AsyncClient) -> None:
    response = await problems.get("/busy")

    assert response.status_code == 429
    assert response.headers["retry-after"] == "3"
    assert response.json()["limit"] == 10
    assert response.json()["code"] == "too_many_requests"


async def test_unknown_route_is_a_not_found_problem(problems: httpx.AsyncClient) -> None:
    response = await problems.get("/nowhere", headers={"Accept-Language": "en"})

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "type": "urn:yiwang:problem:not_found",
        "title": "Not found",
        "status": 404,
        "code": "not_found",
        "instance": "/nowhere",
        "detail": "Not Found",
    }


async def test_request_validation_error_lists_the_errors_without_the_input(
    problems: httpx.AsyncClient,
) -> None:
    response = await problems.post("/applicants", json={"id_number": ID_NUMBER, "age": "old"})

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "validation_failed"
    assert body["title"] == "请求参数校验失败"
    assert body["type"] == "urn:yiwang:problem:validation_failed"
    assert [(e["loc"], e["type"]) for e in body["errors"]] == [(["body", "age"], "int_parsing")]
    assert set(body["errors"][0]) == {"loc", "msg", "type"}
    assert isinstance(body["errors"][0]["msg"], str) and body["errors"][0]["msg"]
    assert ID_NUMBER not in response.text


async def test_missing_field_names_its_location(problems: httpx.AsyncClient) -> None:
    response = await problems.post(
        "/applicants", json={"age": 30}, headers={"Accept-Language": "en"}
    )

    assert response.status_code == 422
    assert response.json()["title"] == "Request validation failed"
    assert [(e["loc"], e["type"]) for e in response.json()["errors"]] == [
        (["body", "id_number"], "missing")
    ]


async def test_unexpected_exception_is_an_internal_error_without_its_text(
    problems: httpx.AsyncClient,
) -> None:
    response = await problems.get("/boom")

    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "type": "urn:yiwang:problem:internal_error",
        "title": "系统内部错误",
        "status": 500,
        "code": "internal_error",
        "instance": "/boom",
    }
    assert "hunter2" not in response.text
    assert "RuntimeError" not in response.text


# ---- the problem answers in the OpenAPI document ----------------------------------------


def documented_app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    document_problems(app)

    @app.get("/matters/{matter_id}", responses={404: {"description": "No such matter"}})
    async def get_matter(matter_id: str, version: int | None = None) -> dict[str, str]:
        return {}

    @app.post("/applicants")
    async def create_applicant(applicant: Applicant) -> dict[str, str]:
        return {}

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {}

    return app


def test_every_route_documents_its_problem_answers_as_problem_json() -> None:
    doc = documented_app().openapi()

    read = doc["paths"]["/matters/{matter_id}"]["get"]["responses"]
    write = doc["paths"]["/applicants"]["post"]["responses"]
    assert {"400", "401", "403", "404", "422", "429", "503"} <= set(read)
    assert {"409", "413"} <= set(write) and "409" not in read
    for responses in (read, write):
        for status, response in responses.items():
            if int(status) >= 400:
                assert response["content"] == {
                    "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
                }, status
    assert read["404"]["description"] == "No such matter"
    assert set(doc["paths"]["/healthz"]["get"]["responses"]) == {"200"}
    schemas = doc["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and "Problem" in schemas


async def test_validation_problem_matches_the_documented_problem_schema() -> None:
    import jsonschema

    app = documented_app()
    schema = app.openapi()["components"]["schemas"]["Problem"]
    async with client(app) as c:
        response = await c.post("/applicants", json={"age": "old"})
    assert response.headers["content-type"] == "application/problem+json"
    jsonschema.validate(response.json(), schema)


async def test_a_value_the_database_refuses_is_a_400_problem() -> None:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/overflow")
    async def overflow() -> dict[str, str]:
        # What SQLite's driver raises for an integer past 64 bits.
        raise OverflowError("Python int too large to convert to SQLite INTEGER")

    @app.get("/driver-data-error")
    async def driver_data_error() -> dict[str, str]:
        # asyncpg refuses the value before sending it; SQLAlchemy wraps it as a DBAPIError.
        class DataError(ValueError):
            pass

        try:
            raise DataError("invalid input for query argument $1 (value out of int32 range)")
        except DataError as exc:
            raise DBAPIError("SELECT 1", {}, Exception("adapted")) from exc

    @app.get("/server-data-exception")
    async def server_data_exception() -> dict[str, str]:
        # PostgreSQL's class 22, e.g. 22021 for a NUL byte in text.
        class CharacterNotInRepertoireError(Exception):
            sqlstate = "22021"

        try:
            raise CharacterNotInRepertoireError('invalid byte sequence for encoding "UTF8": 0x00')
        except CharacterNotInRepertoireError as exc:
            raise DBAPIError("SELECT 1", {}, Exception("adapted")) from exc

    @app.get("/other-database-error")
    async def other() -> dict[str, str]:
        raise DBAPIError("SELECT 1", {}, Exception("something else"))

    async with client(app) as c:
        for path in ("/overflow", "/driver-data-error", "/server-data-exception"):
            response = await c.get(path)
            assert response.status_code == 400, path
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["code"] == "value_out_of_range"
        assert (await c.get("/other-database-error")).status_code == 500


def test_readiness_documents_its_not_ready_answer() -> None:
    from yiwang_platform.observability import DependencyMonitor, health_router

    async def unready() -> dict[str, str]:
        return {"database": "unavailable"}

    app = FastAPI()
    app.include_router(health_router(unready, DependencyMonitor("test")))
    document_problems(app)
    responses = app.openapi()["paths"]["/readyz"]["get"]["responses"]
    assert responses["503"]["content"] == {
        "application/json": {"schema": {"$ref": "#/components/schemas/Readiness"}}
    }
