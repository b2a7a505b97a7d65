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
from yiwang_platform.outbox import Outbox
from yiwang_platform.pii import PiiCipher
from yiwang_platform.service import ServiceSpec, packaged_migrations, service_entrypoints

# The audience of its internal tokens, its consumer group and its route prefix.
NAME = "exchange"


def migrations_dir() -> Path:
    return packaged_migrations(__file__)


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


create_app, openapi_document, __getattr__ = service_entrypoints(spec)
