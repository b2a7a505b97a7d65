"""The services intake calls inside a request: matters (the bundle guide), data-exchange
(pre-fill) and license (wallet licenses offered instead of paper, 免提交)."""

from __future__ import annotations

from typing import Annotated

import httpx
from fastapi import Depends, FastAPI, Request

from intake.settings import Settings
from yiwang_platform.peers import PeerClient
from yiwang_platform.service import runtime_of

PEERS = ("matters", "data-exchange", "license")


def build_peers(
    settings: Settings, transports: dict[str, httpx.AsyncBaseTransport] | None = None
) -> dict[str, PeerClient]:
    transports = transports or {}
    urls = {
        "matters": settings.peer_matters_url,
        "data-exchange": settings.peer_data_exchange_url,
        "license": settings.peer_license_url,
    }
    return {
        name: PeerClient(
            name,
            "http://in-process" if name in transports else urls[name],
            settings.peer_timeout,
            transport=transports.get(name),
        )
        for name in PEERS
    }


def use_in_process_peers(app: FastAPI, apps: dict[str, FastAPI]) -> None:
    """Standalone: reach the peers' ASGI apps directly instead of over HTTP."""
    app.state.peer_transports = {
        name: httpx.ASGITransport(app=peer) for name, peer in apps.items() if name in PEERS
    }


async def get_peers(request: Request) -> dict[str, PeerClient]:
    peers: dict[str, PeerClient] | None = getattr(request.app.state, "peers", None)
    if peers is None:
        settings = runtime_of(request).settings
        assert isinstance(settings, Settings)
        peers = build_peers(settings, getattr(request.app.state, "peer_transports", None))
        request.app.state.peers = peers
    return peers


PeersDep = Annotated[dict[str, PeerClient], Depends(get_peers)]
