"""App factory of the intake service (``uvicorn intake.main:app``)."""

from __future__ import annotations

from pathlib import Path

from intake.api.routes import ROUTERS
from intake.events import PUBLISHES
from intake.handlers import BATCH_HANDLERS, HANDLERS
from intake.models import metadata
from intake.settings import Settings
from yiwang_platform.service import ServiceSpec, packaged_migrations, service_entrypoints

NAME = "intake"
# Called inside a request: matters (the bundle guide), data-exchange (pre-fill) and
# license (wallet licenses offered instead of paper, 免提交; e-license types).
PEERS = ("matters", "data-exchange", "license")


def migrations_dir() -> Path:
    return packaged_migrations(__file__)


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
        batch_handlers=BATCH_HANDLERS,
        peers=PEERS,
        uses_pii=True,
    )


create_app, openapi_document, __getattr__ = service_entrypoints(spec)
