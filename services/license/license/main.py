"""App factory of the license service (``uvicorn license.main:app``)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI

from license import storage
from license.api.routes import ROUTERS
from license.events import PUBLISHES
from license.handlers import HANDLERS
from license.models import metadata
from license.seal import SealKeyring
from license.settings import Settings
from yiwang_platform.service import (
    Runtime,
    ServiceSpec,
    packaged_migrations,
    service_entrypoints,
)

NAME = "license"


def migrations_dir() -> Path:
    return packaged_migrations(__file__)


@contextlib.asynccontextmanager
async def encrypt_stored_in_clear(app: FastAPI) -> AsyncIterator[None]:
    # Licenses stored before encryption at rest are encrypted before serving.
    runtime: Runtime = app.state.runtime
    await storage.encrypt_legacy(runtime.sessions, runtime.cipher)
    yield


def spec(settings: Settings | None = None) -> ServiceSpec:
    return ServiceSpec(
        name=NAME,
        title="Yiwang license",
        settings=settings or Settings(),
        metadata=metadata,
        migrations=migrations_dir(),
        routers=ROUTERS,
        publishes=PUBLISHES,
        handlers=HANDLERS,
        # The PII key and the seal key are loaded at start: a missing one stops it at
        # once, while building the app for its OpenAPI document needs neither.
        uses_pii=True,
        collaborators=SealKeyring.from_settings,
        lifespan=encrypt_stored_in_clear,
    )


create_app, openapi_document, __getattr__ = service_entrypoints(spec)
