"""App factory of the matters service (``uvicorn matters.main:app``)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from matters.api.routes import ROUTERS
from matters.events import PUBLISHES
from matters.models import metadata
from matters.settings import Settings
from yiwang_platform.bus import EventBus
from yiwang_platform.internal_token import InternalTokenVerifier
from yiwang_platform.service import ServiceSpec, build_app

NAME = "matters"


def migrations_dir() -> Path:
    here = Path(__file__).resolve().parent
    packaged = here / "migrations"
    return packaged if packaged.is_dir() else here.parent / "migrations"


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


def create_app(
    settings: Settings | None = None,
    bus: EventBus | None = None,
    verifier: InternalTokenVerifier | None = None,
    configure_logs: bool = True,
) -> FastAPI:
    return build_app(spec(settings), bus=bus, verifier=verifier, configure_logs=configure_logs)


def __getattr__(name: str) -> FastAPI:
    # ``uvicorn matters.main:app`` builds the app on first access, not at import.
    if name == "app":
        return create_app()
    raise AttributeError(name)


def openapi_document() -> dict[str, object]:
    """The OpenAPI document as published in ``contracts/openapi/matters.json``."""
    return create_app(configure_logs=False).openapi()
