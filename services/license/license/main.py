"""App factory of the license service (``uvicorn license.main:app``)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from fastapi import FastAPI

from license.api.routes import ROUTERS
from license.events import PUBLISHES
from license.models import metadata
from license.seal import SealKeyring
from license.settings import Settings
from yiwang_platform.pii import PiiCipher
from yiwang_platform.service import ServiceSpec, packaged_migrations, service_entrypoints

NAME = "license"


def migrations_dir() -> Path:
    return packaged_migrations(__file__)


def load_keys(
    settings: Settings,
) -> Callable[[FastAPI], contextlib.AbstractAsyncContextManager[None]]:
    """Load the seal and PII keys at start, so a missing key stops the service at once
    (not at the first request), and building the app for its OpenAPI document needs none."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.seal_keyring = SealKeyring.from_settings(settings)
        app.state.pii_cipher = PiiCipher.from_settings(settings)
        yield

    return lifespan


def spec(settings: Settings | None = None) -> ServiceSpec:
    settings = settings or Settings()
    return ServiceSpec(
        name=NAME,
        title="Yiwang license",
        settings=settings,
        metadata=metadata,
        migrations=migrations_dir(),
        routers=ROUTERS,
        publishes=PUBLISHES,
        lifespan=load_keys(settings),
    )


create_app, openapi_document, __getattr__ = service_entrypoints(spec)
