"""App factory of the data-exchange service (``uvicorn data_exchange.main:app``)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import cast

from fastapi import FastAPI
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from data_exchange import access_audit, seed
from data_exchange.api.routes import ROUTERS
from data_exchange.events import PUBLISHES
from data_exchange.faces import DlibFaceMatcher, FaceMatcher, create_matcher
from data_exchange.handlers import build_handlers
from data_exchange.models import access_log, access_log_checkpoints, metadata, outbox
from data_exchange.settings import Settings
from yiwang_platform.audit_checkpoints import CheckpointKey, run_checkpoints
from yiwang_platform.outbox import Outbox
from yiwang_platform.pii import PiiCipher
from yiwang_platform.service import Runtime, ServiceSpec, packaged_migrations, service_entrypoints

log = logging.getLogger(__name__)
# The audience of its internal tokens, its consumer group and its route prefix.
NAME = "data-exchange"


def migrations_dir() -> Path:
    return packaged_migrations(__file__)


async def load_seed(runtime: Runtime, cipher: PiiCipher) -> None:
    """Load the synthetic seed (settings ``seed_libraries``). Replicas starting at once
    may insert the same record: the loser's transaction rolls back and one more try
    finds everything there."""
    try:
        done = await seed.load(runtime.sessions, runtime.outbox, cipher)
    except (IntegrityError, StaleDataError):
        done = await seed.load(runtime.sessions, runtime.outbox, cipher)
    log.info("seed libraries loaded: %s", done)


def load_keys(
    cipher: Callable[[], PiiCipher],
    matcher: Callable[[], FaceMatcher] | None = None,
) -> Callable[[FastAPI], contextlib.AbstractAsyncContextManager[None]]:
    """Load the PII key at start, so a missing key stops the service at once (not at the
    first record), and building the app for its OpenAPI document needs none."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = app.state.runtime
        settings = cast(Settings, runtime.settings)
        app.state.pii_cipher = cipher()
        # The access log's HMAC key and the key that signs checkpoints of its head.
        access_audit.configure(runtime.sessions, settings)
        app.state.audit_checkpoint_key = checkpoint_key = CheckpointKey.from_settings(settings)
        # The face matcher (人脸核验); the dlib one loads its model files in the background.
        app.state.face_matcher = face_matcher = matcher() if matcher else None
        if isinstance(face_matcher, DlibFaceMatcher):
            warm_up = asyncio.create_task(asyncio.to_thread(face_matcher.warm_up))
        checkpointer = asyncio.create_task(
            run_checkpoints(
                runtime.sessions,
                access_log,
                checkpoints=access_log_checkpoints,
                key=checkpoint_key,
                interval=settings.audit_checkpoint_interval_seconds,
            ),
            name="exchange-audit-checkpoints",
        )
        try:
            if settings.seed_libraries:
                await load_seed(runtime, app.state.pii_cipher)
            yield
        finally:
            checkpointer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await checkpointer
            if face_matcher is not None:
                if isinstance(face_matcher, DlibFaceMatcher):
                    await asyncio.gather(warm_up, return_exceptions=True)
                await face_matcher.close()

    return lifespan


def spec(settings: Settings | None = None) -> ServiceSpec:
    settings = settings or Settings()
    cipher = functools.cache(lambda: PiiCipher.from_settings(settings))
    # Handlers write their events through the same outbox table as the routes.
    handlers_outbox = Outbox(outbox, source=f"/yiwang/{NAME}")
    # One matcher per service process: its model is loaded once.
    matcher = functools.cache(lambda: create_matcher(settings))
    return ServiceSpec(
        name=NAME,
        title="Yiwang data-exchange",
        settings=settings,
        metadata=metadata,
        migrations=migrations_dir(),
        routers=ROUTERS,
        publishes=PUBLISHES,
        handlers=build_handlers(cipher, handlers_outbox, matcher),
        lifespan=load_keys(cipher, matcher),
    )


create_app, openapi_document, __getattr__ = service_entrypoints(spec)
