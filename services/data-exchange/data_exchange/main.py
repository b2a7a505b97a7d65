"""App factory of the data-exchange service (``uvicorn data_exchange.main:app``)."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from fastapi import FastAPI

from data_exchange.api.routes import ROUTERS
from data_exchange.events import PUBLISHES
from data_exchange.handlers import build_handlers
from data_exchange.models import metadata, outbox
from data_exchange.settings import Settings
from yiwang_platform.bus import EventBus
from yiwang_platform.internal_token import InternalTokenVerifier
from yiwang_platform.outbox import Outbox
from yiwang_platform.pii import PiiCipher
from yiwang_platform.service import ServiceSpec, build_app

# The audience of its internal tokens, its consumer group and its route prefix.
NAME = "exchange"


def migrations_dir() -> Path:
    here = Path(__file__).resolve().parent
    packaged = here / "migrations"
    return packaged if packaged.is_dir() else here.parent / "migrations"


def load_keys(
    cipher: Callable[[], PiiCipher],
) -> Callable[[FastAPI], contextlib.AbstractAsyncContextManager[None]]:
    """Load the PII key at start, so a missing key stops the service at once (not at the
    first record), and building the app for its OpenAPI document needs none."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.pii_cipher = cipher()
        yield

    return lifespan


def spec(settings: Settings | None = None) -> ServiceSpec:
    settings = settings or Settings()
    cipher = functools.cache(lambda: PiiCipher.from_settings(settings))
    # Handlers write their events through the same outbox table as the routes.
    handlers_outbox = Outbox(outbox, source=f"/yiwang/{NAME}")
    return ServiceSpec(
        name=NAME,
        title="Yiwang data-exchange",
        settings=settings,
        metadata=metadata,
        migrations=migrations_dir(),
        routers=ROUTERS,
        publishes=PUBLISHES,
        handlers=build_handlers(cipher, handlers_outbox),
        lifespan=load_keys(cipher),
    )


def create_app(
    settings: Settings | None = None,
    bus: EventBus | None = None,
    verifier: InternalTokenVerifier | None = None,
    configure_logs: bool = True,
) -> FastAPI:
    return build_app(spec(settings), bus=bus, verifier=verifier, configure_logs=configure_logs)


def __getattr__(name: str) -> FastAPI:
    # ``uvicorn data_exchange.main:app`` builds the app on first access, not at import.
    if name == "app":
        return create_app()
    raise AttributeError(name)


def openapi_document() -> dict[str, object]:
    """The OpenAPI document as published in ``contracts/openapi/data-exchange.json``."""
    return create_app(configure_logs=False).openapi()
