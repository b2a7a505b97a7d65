"""Autogenerate a migration for one service against a scratch SQLite database
brought to the service's current head: ``python tools/new_migration.py matters "message"``."""

from __future__ import annotations

import asyncio
import importlib
import sys
import tempfile
from pathlib import Path

from alembic import command

from yiwang_platform.db import create_engine
from yiwang_platform.migrations import alembic_config, upgrade

PACKAGES = {
    "gateway": "gateway",
    "matters": "matters",
    "intake": "intake",
    "license": "license",
    "data-exchange": "data_exchange",
    "supervision": "supervision",
}


def main(service: str, message: str) -> None:
    main_module = importlib.import_module(f"{PACKAGES[service]}.main")
    location: Path = main_module.migrations_dir()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/scratch.db"

        async def _to_head() -> None:
            engine = create_engine(url)
            await upgrade(engine, location)
            await engine.dispose()

        asyncio.run(_to_head())
        cfg = alembic_config(location, url)
        versions = sorted((location / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))
        rev_id = f"{len(versions) + 1:04d}"
        command.revision(cfg, message=message, autogenerate=True, rev_id=rev_id)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
