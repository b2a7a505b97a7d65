"""App factory of the data-exchange service (``uvicorn data_exchange.main:app``)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI

from data_exchange import access_audit, collaborators
from data_exchange.api.routes import ROUTERS
from data_exchange.collaborators import Collaborators
from data_exchange.events import PUBLISHES
from data_exchange.faces import DlibFaceMatcher
from data_exchange.handlers import BATCH_HANDLERS, HANDLERS
from data_exchange.models import access_log, access_log_checkpoints, metadata
from data_exchange.settings import Settings
from yiwang_platform.audit_checkpoints import run_checkpoints
from yiwang_platform.service import Runtime, ServiceSpec, packaged_migrations, service_entrypoints

# The audience of its internal tokens, its consumer group and its route prefix.
NAME = "data-exchange"


def migrations_dir() -> Path:
    return packaged_migrations(__file__)


@contextlib.asynccontextmanager
async def audit_and_faces(app: FastAPI) -> AsyncIterator[None]:
    """The access log's HMAC key and the signer of checkpoints of its head; the face
    matcher warmed up in the background (the dlib one loads its model files) and closed
    at the end."""
    runtime: Runtime = app.state.runtime
    settings = runtime.settings
    access_audit.configure(runtime.sessions, settings)
    own = runtime.collaborators
    assert isinstance(own, Collaborators)
    matcher = own.matcher
    warm_up = (
        asyncio.create_task(asyncio.to_thread(matcher.warm_up))
        if isinstance(matcher, DlibFaceMatcher)
        else None
    )
    checkpointer = asyncio.create_task(
        run_checkpoints(
            runtime.sessions,
            access_log,
            checkpoints=access_log_checkpoints,
            key=own.checkpoint_key,
            interval=settings.audit_checkpoint_interval_seconds,
        ),
        name="exchange-audit-checkpoints",
    )
    try:
        yield
    finally:
        checkpointer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await checkpointer
        if warm_up is not None:
            await asyncio.gather(warm_up, return_exceptions=True)
        await matcher.close()


def spec(settings: Settings | None = None) -> ServiceSpec:
    return ServiceSpec(
        name=NAME,
        title="Yiwang data-exchange",
        settings=settings or Settings(),
        metadata=metadata,
        migrations=migrations_dir(),
        routers=ROUTERS,
        publishes=PUBLISHES,
        handlers=HANDLERS,
        batch_handlers=BATCH_HANDLERS,
        uses_pii=True,
        collaborators=collaborators.build,
        lifespan=audit_and_faces,
    )


create_app, openapi_document, __getattr__ = service_entrypoints(spec)
