"""Building the matters app for a test, with or without the seed catalogue."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI

from matters.main import create_app
from matters.settings import Settings


@pytest.fixture
def matters_app(backend, verifier):
    """``await matters_app(seed=True, **settings)``: an app on the test's backend."""

    async def build(seed: bool = True, **overrides: Any) -> FastAPI:
        settings = await backend.settings(Settings, seed_catalogue=seed, **overrides)
        return create_app(settings, bus=backend.bus(), verifier=verifier, configure_logs=False)

    return build
