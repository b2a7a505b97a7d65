"""App factory of the matters service (``uvicorn matters.main:app``)."""

from __future__ import annotations

from pathlib import Path

from matters.api.routes import ROUTERS
from matters.events import PUBLISHES
from matters.models import metadata
from matters.settings import Settings
from yiwang_platform.service import ServiceSpec, packaged_migrations, service_entrypoints

NAME = "matters"


def migrations_dir() -> Path:
    return packaged_migrations(__file__)


def spec(settings: Settings | None = None) -> ServiceSpec:
    return ServiceSpec(
        name=NAME,
        title="Yiwang matters",
        settings=settings or Settings(),
        metadata=metadata,
        migrations=migrations_dir(),
        routers=ROUTERS,
        publishes=PUBLISHES,
    )


create_app, openapi_document, __getattr__ = service_entrypoints(spec)
