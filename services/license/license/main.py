"""App factory of the license service (``uvicorn license.main:app``)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from fastapi import FastAPI

from license import storage
from license.api.routes import ROUTERS
from license.events import PUBLISHES
from license.handlers import build_handlers
from license.keys import Keys
from license.models import metadata
from license.settings import Settings
from yiwang_platform.outbox import Outbox
from yiwang_platform.service import ServiceSpec, packaged_migrations, service_entrypoints

NAME = "license"


def migrations_dir() -> Path:
    return packaged_migrations(__file__)


def load_keys(keys: Keys) -> Callable[[FastAPI], contextlib.AbstractAsyncContextManager[None]]:
    """Load the seal and PII keys at start, so a missing key stops the service at once
    (not at the first request), and building the app for its OpenAPI document needs none."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.seal_keyring = keys.keyring
        app.state.pii_cipher = keys.cipher
        # Licenses stored before encryption at rest are encrypted before serving.
        await storage.encrypt_legacy(app.state.runtime.sessions, keys.cipher)
        yield

    return lifespan


def spec(settings: Settings | None = None) -> ServiceSpec:
    settings = settings or Settings()
    keys = Keys(settings)
    # Same table and source as the runtime's outbox; its relay wakes on their commit.
    outbox = Outbox(metadata.tables["outbox"], source=f"/yiwang/{NAME}")
    return ServiceSpec(
        name=NAME,
        title="Yiwang license",
        settings=settings,
        metadata=metadata,
        migrations=migrations_dir(),
        routers=ROUTERS,
        publishes=PUBLISHES,
        handlers=build_handlers(keys, outbox),
        lifespan=load_keys(keys),
    )


create_app, openapi_document, __getattr__ = service_entrypoints(spec)
