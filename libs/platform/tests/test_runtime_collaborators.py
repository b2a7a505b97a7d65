"""What the runtime hands a service: its settings, one outbox, the PII cipher (a missing
key stops the start), peer clients, its own collaborators, the clock, and role checks,
through the alias factories of ``yiwang_platform.deps``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import pytest
from fastapi import APIRouter, Depends, FastAPI
from sqlalchemy import MetaData

from yiwang_platform.bus.inprocess import InProcessBus
from yiwang_platform.deps import (
    CipherDep,
    NowDep,
    OutboxDep,
    RuntimeDep,
    collaborators_of,
    peer,
    require_role,
    settings_of,
)
from yiwang_platform.internal_token import (
    InternalPrincipal,
    InternalTokenSigner,
    InternalTokenVerifier,
)
from yiwang_platform.outbox import Outbox, inbox_table, outbox_table
from yiwang_platform.peers import PeerClient
from yiwang_platform.service import ServiceSpec, build_app, connect_in_process
from yiwang_platform.settings import ServiceSettings
from yiwang_platform.testing import client, running

METADATA = MetaData()
outbox_table(METADATA)
inbox_table(METADATA)
SIGNER = InternalTokenSigner.generate()
NOW = datetime(2026, 5, 6, 9, 30, tzinfo=UTC)


class Settings(ServiceSettings):
    service_name: str = "things"
    greeting: str = "你好"
    peer_echo_url: str = "http://127.0.0.1:9"  # never dialled: the peer is in-process


@dataclass
class Stamp:
    """A service's own collaborator, built from its settings at start."""

    text: str


SettingsDep = Annotated[Settings, Depends(settings_of(Settings))]
StampDep = Annotated[Stamp, Depends(collaborators_of(Stamp))]
EchoDep = Annotated[PeerClient, Depends(peer("echo"))]
ClerkDep = Annotated[InternalPrincipal, Depends(require_role("window"))]

router = APIRouter()


@router.get("/collaborators")
async def collaborators(
    settings: SettingsDep, stamp: StampDep, outbox: OutboxDep, runtime: RuntimeDep, now: NowDep
) -> dict[str, Any]:
    return {
        "greeting": settings.greeting,
        "stamp": stamp.text,
        "one_outbox": outbox is runtime.outbox,
        "now": now.isoformat(),
    }


@router.get("/blind-index")
async def blind_index(cipher: CipherDep) -> dict[str, str]:
    return {"index": cipher.blind_index("x")}


@router.get("/clerks-only")
async def clerks_only(clerk: ClerkDep) -> dict[str, str]:
    return {"clerk": clerk.subject}


@router.get("/echo")
async def call_echo(echo: EchoDep) -> dict[str, Any]:
    status, body = await echo.call("GET", "/hello", token="token")
    return {"status": status, "body": body}


def build(tmp_path: Path, **overrides: Any) -> FastAPI:
    settings = Settings(
        var_dir=tmp_path,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}",
        migrate_on_start=False,
        log_json=False,
        **overrides,
    )
    spec = ServiceSpec(
        name="things",
        title="things",
        settings=settings,
        metadata=METADATA,
        migrations=Path("unused"),
        routers=[router],
        peers=("echo",),
        uses_pii=True,
        collaborators=lambda s: Stamp(text=f"stamped by {s.service_name}"),
    )
    return build_app(
        spec,
        bus=InProcessBus(),
        verifier=InternalTokenVerifier(SIGNER.jwks()),
        configure_logs=False,
    )


def echo_app() -> FastAPI:
    app = FastAPI()

    @app.get("/hello")
    async def hello() -> dict[str, str]:
        return {"hello": "in-process"}

    return app


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[FastAPI]:
    app = build(tmp_path)
    connect_in_process(app, {"echo": echo_app(), "unrelated": echo_app()})
    app.state.runtime.clock = lambda: NOW
    async with running(app):
        yield app


async def test_routes_get_settings_collaborators_one_outbox_and_the_clock(app):
    async with client(app, SIGNER, audience="things") as api:
        answer = (await api.get("/collaborators")).json()
    assert answer == {
        "greeting": "你好",
        "stamp": "stamped by things",
        "one_outbox": True,
        "now": NOW.isoformat(),
    }
    assert isinstance(app.state.runtime.outbox, Outbox)


async def test_the_cipher_is_the_runtime_one(app):
    async with client(app, SIGNER, audience="things") as api:
        index = (await api.get("/blind-index")).json()["index"]
    assert index == app.state.runtime.cipher.blind_index("x")


async def test_peers_named_in_the_spec_are_reached_in_process(app):
    assert set(app.state.runtime.peers) == {"echo"}
    async with client(app, SIGNER, audience="things") as api:
        answer = (await api.get("/echo")).json()
    assert answer == {"status": 200, "body": {"hello": "in-process"}}


@pytest.mark.parametrize(
    ("claims", "status"),
    [
        ({"principal_type": "staff", "roles": ["window"]}, 200),
        ({"principal_type": "staff", "roles": ["reviewer"]}, 403),
        ({"principal_type": "citizen", "roles": ["window"]}, 403),
    ],
)
async def test_role_aliases_refuse_everyone_else(app, claims, status):
    async with client(app, SIGNER, audience="things", subject="clerk-1", **claims) as api:
        response = await api.get("/clerks-only")
    assert response.status_code == status
    if status == 403:
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == "forbidden"
    else:
        assert response.json() == {"clerk": "clerk-1"}


async def test_a_missing_pii_key_stops_the_start_not_the_first_request(tmp_path):
    app = build(tmp_path, environment="distributed", pii_key="")
    with pytest.raises(RuntimeError, match="YIWANG_PII_KEY"):
        async with running(app):
            pass


async def test_building_the_app_needs_no_key(tmp_path):
    # The OpenAPI document is generated without secrets.
    app = build(tmp_path, environment="distributed", pii_key="")
    assert "/collaborators" in app.openapi()["paths"]
    assert not (tmp_path / "pii.key").exists()


async def test_a_peer_not_in_process_is_reached_over_http(tmp_path):
    app = build(tmp_path)
    async with running(app):
        echo = app.state.runtime.peers["echo"]
        with pytest.raises(Exception) as refused:
            await echo.call("GET", "/hello", token="token")
    assert getattr(refused.value, "status", None) == 503
