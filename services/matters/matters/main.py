"""App factory of the matters service (``uvicorn matters.main:app``)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI

from matters.api.routes import ROUTERS
from matters.events import PUBLISHES
from matters.models import metadata
from matters.search import SearchIndex
from matters.seed import seed_catalogue
from matters.settings import Settings
from yiwang_platform.service import Runtime, ServiceSpec, packaged_migrations, service_entrypoints

NAME = "matters"


def migrations_dir() -> Path:
    return packaged_migrations(__file__)


def search_index(_settings: Settings) -> SearchIndex:
    """The service's own collaborator: one in-memory search index per process."""
    return SearchIndex()


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Seed the catalogue if asked to, then build the search index."""
    runtime: Runtime = app.state.runtime
    settings = runtime.settings
    if isinstance(settings, Settings) and settings.seed_catalogue:
        await seed_catalogue(runtime.sessions, runtime.outbox)
    index = runtime.collaborators
    assert isinstance(index, SearchIndex)
    async with runtime.sessions() as session:
        await index.refresh(session)
    yield


def spec(settings: Settings | None = None) -> ServiceSpec:
    return ServiceSpec(
        name=NAME,
        title="Yiwang matters",
        settings=settings or Settings(),
        metadata=metadata,
        migrations=migrations_dir(),
        routers=ROUTERS,
        publishes=PUBLISHES,
        collaborators=search_index,
        lifespan=lifespan,
    )


create_app, openapi_document, __getattr__ = service_entrypoints(spec)
