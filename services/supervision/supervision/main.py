"""App factory of the supervision service (``uvicorn supervision.main:app``)."""

from __future__ import annotations

from pathlib import Path

from supervision.api.routes import ROUTERS
from supervision.events import PUBLISHES
from supervision.handlers import HANDLERS
from supervision.models import metadata
from supervision.settings import Settings
from yiwang_platform.service import ServiceSpec, packaged_migrations, service_entrypoints

NAME = "supervision"


def migrations_dir() -> Path:
    return packaged_migrations(__file__)


def spec(settings: Settings | None = None) -> ServiceSpec:
    return ServiceSpec(
        name=NAME,
        title="Yiwang supervision",
        settings=settings or Settings(),
        metadata=metadata,
        migrations=migrations_dir(),
        routers=ROUTERS,
        publishes=PUBLISHES,
        handlers=HANDLERS,
        # Reviewers are recognised by the blind index of their identifier.
        uses_pii=True,
    )


create_app, openapi_document, __getattr__ = service_entrypoints(spec)
