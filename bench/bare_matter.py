"""The baseline of the service-read benchmark: the least an app can do to answer
``GET /api/v1/matters/matters/{code}`` — FastAPI, one asyncpg pool, the same SQL as the
matters service and the same JSON — with no token check, session, ORM or middleware.

Run by ``bench/gateway_proxy.py`` as ``uvicorn bench.bare_matter:app`` against the
matters database (``BARE_DATABASE_URL``, a postgresql:// DSN)."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import AsyncIterator
from datetime import UTC
from typing import Any

import asyncpg
from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response

# The columns of a matter as the service answers them (its id stays inside).
SQL = "SELECT * FROM matters WHERE code = $1 ORDER BY version DESC LIMIT 1"
JSON_COLUMNS = {"keywords", "legal_basis", "conditions", "materials", "situations", "fees"}


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.pool = await asyncpg.create_pool(
        os.environ["BARE_DATABASE_URL"], min_size=10, max_size=20, ssl=False
    )
    yield
    await app.state.pool.close()


app = FastAPI(lifespan=lifespan)


def _value(name: str, value: Any) -> Any:
    if name in JSON_COLUMNS and isinstance(value, str):
        return json.loads(value)
    if name == "published_at":
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return value


@app.get("/api/v1/matters/matters/{code}")
async def get_matter(code: str) -> Response:
    async with app.state.pool.acquire() as conn:
        row = await conn.fetchrow(SQL, code)
    if row is None:
        return JSONResponse({"code": "matter_not_found"}, status_code=404)
    return JSONResponse({k: _value(k, v) for k, v in row.items() if k != "id"})
