"""Fixtures of the supervision tests: the running app on the test's backend, and helpers
to put events on its bus and read what reached a topic."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from fastapi import FastAPI

from supervision.main import create_app
from supervision.models import CaseWatch
from supervision.settings import Settings
from yiwang_platform.bus.base import OutgoingMessage
from yiwang_platform.events import CloudEvent
from yiwang_platform.testing import eventually, running

Publish = Callable[..., Awaitable[CloudEvent]]

CASE_TOPIC = "intake.case.v1"
CASE_SUBMITTED = "gov.intake.case.submitted.v1"
# Submitted on the last working day before the 2026 National Day holiday.
CASE = {
    "matter_code": "11000000000001",
    "matter_version": 1,
    "matter_name": "出生医学证明签发",
    "department": "市卫生健康委员会",
    "promised_days": 1,
    "channel": "online",
    "submitted_at": "2026-09-30T02:00:00Z",
}


@pytest.fixture
async def app(backend, verifier) -> AsyncIterator[FastAPI]:
    settings = await backend.settings(Settings)
    application = create_app(settings, bus=backend.bus(), verifier=verifier, configure_logs=False)
    async with running(application):
        yield application


@pytest.fixture
def publish(app) -> Publish:
    """Put a CloudEvent on the app's bus as another service would (``event`` re-sends one)."""

    async def _publish(
        topic: str,
        event_type: str,
        key: str,
        data: dict[str, Any] | None = None,
        event: CloudEvent | None = None,
    ) -> CloudEvent:
        ce = event or CloudEvent(type=event_type, source="/test", data=data or {}, subject=key)
        message = OutgoingMessage(topic, key.encode(), ce.value(), ce.headers())
        await app.state.runtime.bus.publish([message])
        return ce

    return _publish


@pytest.fixture
def submit_case(app, publish) -> Callable[..., Awaitable[dict[str, Any]]]:
    """Publish a CaseSubmitted event as intake would (with ``changes``) and wait for its watch."""

    async def _submit_case(**changes: Any) -> dict[str, Any]:
        data = {**CASE, "case_id": str(uuid.uuid4()), **changes}
        await publish(CASE_TOPIC, CASE_SUBMITTED, data["case_id"], data)

        async def watched() -> bool:
            async with app.state.runtime.sessions() as s:
                return await s.get(CaseWatch, data["case_id"]) is not None

        await eventually(watched, timeout=30)
        return data

    return _submit_case
