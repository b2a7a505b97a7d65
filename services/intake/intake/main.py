"""App factory of the intake service (``uvicorn intake.main:app``)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI

from intake.api.routes import ROUTERS
from intake.events import PUBLISHES
from intake.handlers import HANDLERS
from intake.models import metadata
from intake.settings import Settings
from yiwang_platform.service import ServiceSpec, packaged_migrations, service_entrypoints

NAME = "intake"


def migrations_dir() -> Path:
    return packaged_migrations(__file__)


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    for peer in (getattr(app.state, "peers", None) or {}).values():
        await peer.close()


def spec(settings: Settings | None = None) -> ServiceSpec:
    return ServiceSpec(
        name=NAME,
        title="Yiwang intake",
        settings=settings or Settings(),
        metadata=metadata,
        migrations=migrations_dir(),
        routers=ROUTERS,
        publishes=PUBLISHES,
        handlers=HANDLERS,
        lifespan=lifespan,
    )


create_app, openapi_document, __getattr__ = service_entrypoints(spec)
