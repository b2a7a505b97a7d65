"""Autogenerate a migration for one service against a scratch SQLite database
brought to the service's current head: ``python tools/new_migration.py matters "message"``."""

from __future__ import annotations

import asyncio
import importlib
import sys
import tempfile
from pathlib import Path

from alembic import command

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: ``tools.contracts`` must import
    sys.path.insert(0, str(ROOT))

from tools.contracts import SERVICES  # noqa: E402
from yiwang_platform.db import create_engine  # noqa: E402
from yiwang_platform.migrations import alembic_config, upgrade  # noqa: E402


def main(service: str, message: str) -> None:
    main_module = importlib.import_module(f"{SERVICES[service]}.main")
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
