"""Fixtures of the intake tests: the running app on the test's backend, clients for its
callers (citizens, window clerks, department reviewers), and helpers to put events on
its bus and read what reached a topic."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from intake.main import create_app
from intake.models import MatterVersion
from intake.settings import Settings
from yiwang_platform.testing import client, eventually, service_fixtures

from .factories import APPLICANT, BIRTH_CERTIFICATE

Caller = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]
HEALTH = "市卫生健康委员会"


app, publish = service_fixtures(create_app, Settings)


@pytest.fixture
def publish_matter(app, publish) -> Callable[..., Awaitable[dict[str, Any]]]:
    """Publish a version of the birth-certificate matter (with ``changes``) and wait for it."""

    async def _publish_matter(**changes: Any) -> dict[str, Any]:
        data = {**BIRTH_CERTIFICATE, **changes}
        await publish("matters.matter.v1", "gov.matters.matter.published.v1", data["code"], data)

        async def stored() -> bool:
            async with app.state.runtime.sessions() as s:
                count = await s.scalar(
                    select(func.count())
                    .select_from(MatterVersion)
                    .where(
                        MatterVersion.code == data["code"],
                        MatterVersion.version == data["version"],
                    )
                )
            return count == 1

        await eventually(stored, timeout=30)
        return data

    return _publish_matter


@pytest.fixture
def citizen(app, signer) -> Caller:
    """A client for a citizen (the applicant by default)."""

    def _citizen(subject: str = APPLICANT) -> AbstractAsyncContextManager[httpx.AsyncClient]:
        return client(app, signer, audience="intake", subject=subject, principal_type="citizen")

    return _citizen


@pytest.fixture
def window(app, signer) -> Caller:
    """A client for a window clerk (staff with the role ``window``)."""

    def _window(subject: str = "window-7") -> AbstractAsyncContextManager[httpx.AsyncClient]:
        return client(
            app,
            signer,
            audience="intake",
            subject=subject,
            principal_type="staff",
            roles=["window"],
        )

    return _window


@pytest.fixture
def reviewer(app, signer) -> Caller:
    """A client for a department's reviewer, as the gateway mints it for intake: the
    license service is a further audience."""

    def _reviewer(
        department: str = HEALTH, subject: str = "reviewer-3"
    ) -> AbstractAsyncContextManager[httpx.AsyncClient]:
        return client(
            app,
            signer,
            audience=["intake", "license"],
            subject=subject,
            principal_type="staff",
            roles=["reviewer"],
            dept=department,
        )

    return _reviewer
