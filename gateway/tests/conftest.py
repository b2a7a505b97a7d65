"""The gateway's test fixtures: services' real apps, the gateway in front of them (every
other service down), clients of the gateway, and callers named by a header."""

from __future__ import annotations

import importlib
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import date
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from stdnum.cn import ric

from gateway.collaborators import Collaborators, authenticated
from gateway.identity.principal import Principal
from gateway.main import create_app, hash_api_key
from gateway.routing.upstreams import AsgiUpstream, HttpUpstream, Upstream
from gateway.settings import SERVICES, Settings
from yiwang_platform.internal_token import InternalTokenSigner
from yiwang_platform.keyvalue import KeyValueStore, RedisStore
from yiwang_platform.testing import client

# Nothing listens there: the services not under test are down.
CLOSED = "http://127.0.0.1:9"


def id_number(birth: date, sequence: int, area: str = "110101") -> str:
    """A valid resident ID number."""
    body = f"{area}{birth:%Y%m%d}{sequence:03d}"
    return body + ric.calc_check_digit(body + "0")


def person(number: str, birth: date, name: str = "张三", **fields: object) -> dict[str, object]:
    """A population record as a county's hukou source pushes it to data-exchange."""
    return {
        "source": "110101-hukou",
        "source_version": 1,
        "id_number": number,
        "name": name,
        "sex": "男",
        "birth_date": birth.isoformat(),
        **fields,
    }


async def push_people(
    exchange: FastAPI, signer: InternalTokenSigner, *records: Mapping[str, object]
) -> list[str]:
    """``records`` pushed straight to data-exchange by a county: the status of each."""
    async with client(
        exchange, signer, audience="data-exchange", principal_type="county"
    ) as county:
        pushed = await county.post(
            "/api/v1/data-exchange/population/records", json={"records": list(records)}
        )
    assert pushed.status_code == 200, pushed.text
    return [result["status"] for result in pushed.json()["results"]]


def api_keys(keys: Mapping[str, Principal]) -> str:
    """The ``api_keys`` setting for these keys and the principals they stand for."""
    return json.dumps(
        [
            {
                "sha256": hash_api_key(key),
                "subject": p.subject,
                "principal_type": p.principal_type,
                "roles": list(p.roles),
            }
            for key, p in keys.items()
        ]
    )


def parts(app: FastAPI) -> Collaborators:
    """The running gateway's collaborators (its session store, keyring, key-value store, ...)."""
    found = app.state.runtime.collaborators
    assert isinstance(found, Collaborators)
    return found


def gateway_client(app: FastAPI, **headers: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gw", headers=headers, timeout=30
    )


def act_as(front: FastAPI, callers: Mapping[str, Principal]) -> None:
    """Callers by name (the ``X-As`` header); authentication itself is tested elsewhere."""

    async def as_caller(request: Request) -> Principal:
        return callers[request.headers["x-as"]]

    front.dependency_overrides[authenticated] = as_caller


@pytest.fixture
def service_app(backend, verifier) -> Callable[..., Awaitable[FastAPI]]:
    """A service's real app by package name (``"matters"``, ``"data_exchange"``, ...)."""

    async def make(package: str, **settings: Any) -> FastAPI:
        main = importlib.import_module(f"{package}.main")
        config = importlib.import_module(f"{package}.settings")
        return main.create_app(
            await backend.settings(config.Settings, **settings),
            bus=backend.bus(),
            verifier=verifier,
            configure_logs=False,
        )

    return make


@pytest.fixture
async def gateway_app(backend, signer) -> AsyncIterator[Callable[..., Awaitable[FastAPI]]]:
    """The gateway in front of ``apps`` (in-process), every other service down. With
    ``own_redis``, its key-value store on real Redis (when the backend has it) keeps
    this test's counts and locks in a namespace of its own."""
    stores: list[KeyValueStore] = []

    async def make(
        apps: Mapping[str, FastAPI] | None = None,
        *,
        timeout: float = 5,
        upstreams: Mapping[str, Upstream] | None = None,
        kv: KeyValueStore | None = None,
        own_redis: bool = False,
        **settings: Any,
    ) -> FastAPI:
        routes: dict[str, Upstream] = {name: HttpUpstream(CLOSED, 1) for name in SERVICES}
        routes.update({name: AsgiUpstream(app, timeout) for name, app in (apps or {}).items()})
        routes.update(upstreams or {})
        config = await backend.settings(Settings, **settings)
        if own_redis and kv is None and config.redis_url:
            kv = RedisStore(config.redis_url, prefix=f"test:{uuid.uuid4().hex}:")
            stores.append(kv)
        return create_app(
            config,
            backend.bus(),
            signer=signer,
            upstreams=routes,
            kv=kv,
            configure_logs=False,
        )

    yield make
    for store in stores:
        await store.close()
