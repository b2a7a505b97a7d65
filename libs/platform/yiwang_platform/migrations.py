"""Alembic helpers shared by every service's ``migrations/env.py``.

Standalone mode runs ``upgrade`` at start; the distributed run calls
``python -m <service>.migrate`` (or the Kubernetes Job) as a separate step.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import weakref
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa
from alembic import command, context, op
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, MetaData
from sqlalchemy.ext.asyncio import AsyncEngine

from yiwang_platform.db import UtcDateTime, create_engine
from yiwang_platform.settings import ServiceSettings

log = logging.getLogger(__name__)


def alembic_config(script_location: Path, database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(script_location))
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


# Alembic keeps its migration context in module globals, and an upgrade awaits the
# database between its steps: two upgrades in one process (several apps in one
# standalone process or test) must not interleave. One lock per event loop, since an
# asyncio lock belongs to the loop it first waited in.
_upgrade_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


def _one_upgrade_at_a_time() -> asyncio.Lock:
    loop = asyncio.get_running_loop()
    lock = _upgrade_locks.get(loop)
    if lock is None:
        lock = _upgrade_locks[loop] = asyncio.Lock()
    return lock


async def upgrade(engine: AsyncEngine, script_location: Path) -> None:
    """Bring the database behind ``engine`` to the newest revision."""
    cfg = alembic_config(script_location, engine.url.render_as_string(hide_password=False))

    def _run(connection: Connection) -> None:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")

    async with _one_upgrade_at_a_time(), engine.begin() as conn:
        await conn.run_sync(_run)


def _render_item(kind: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    # Migrations store plain timestamps; UTC handling is the model's business.
    if kind == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_env(target_metadata: MetaData) -> None:
    """Body of a service's ``env.py``: online migrations on a passed or a new connection."""

    def _migrate(connection: Connection) -> None:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            render_item=_render_item,
        )
        with context.begin_transaction():
            context.run_migrations()

    connection = context.config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
        return

    async def _standalone() -> None:
        engine = create_engine(context.config.get_main_option("sqlalchemy.url") or "")
        async with engine.begin() as conn:
            await conn.run_sync(_migrate)
        await engine.dispose()

    asyncio.run(_standalone())


async def current_is_head(engine: AsyncEngine, script_location: Path) -> bool:
    """Whether the database is at the newest revision that this code ships."""
    heads = set(ScriptDirectory.from_config(alembic_config(script_location, "")).get_heads())

    def _current(connection: Connection) -> set[str]:
        return set(MigrationContext.configure(connection).get_current_heads())

    async with engine.connect() as conn:
        return await conn.run_sync(_current) == heads


async def wait_for_head(
    engine: AsyncEngine, script_location: Path, *, timeout: float, interval: float = 2.0
) -> None:
    """Wait until another process (the migration Job) has brought the database to head."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            if await current_is_head(engine, script_location):
                return
        except Exception as exc:  # database not reachable yet
            log.info("waiting for the database: %s", type(exc).__name__)
        if loop.time() > deadline:
            raise TimeoutError(f"database not migrated to head within {timeout:.0f}s")
        await asyncio.sleep(interval)


async def migrate_cli(settings: ServiceSettings, script_location: Path) -> None:
    """Entry point of ``python -m <service>.migrate``: upgrade to head, or with
    ``--wait [SECONDS]`` only wait until the database is there (a pod's init container
    waits so for the migration Job, so a new version serves only on its own schema)."""
    parser = argparse.ArgumentParser(prog="migrate")
    parser.add_argument("--wait", type=float, nargs="?", const=600.0, default=None)
    args = parser.parse_args()
    url = settings.resolved_database_url()
    if url.startswith("sqlite"):
        settings.var_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)
    try:
        if args.wait is not None:
            await wait_for_head(engine, script_location, timeout=args.wait)
        else:
            await upgrade(engine, script_location)
    finally:
        await engine.dispose()


# ---- the platform's own tables, for each service's first migration ---------------------


def create_platform_tables() -> None:
    """The outbox, inbox and idempotency tables as every service's first migration made
    them. Frozen: a later change to these tables is a migration of its own."""
    op.create_table(
        "idempotency_keys",
        sa.Column("principal", sa.String(length=200), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("principal", "key"),
    )
    op.create_table(
        "inbox",
        sa.Column("consumer", sa.String(length=100), nullable=False),
        sa.Column("event_id", sa.String(length=100), nullable=False),
        sa.Column("event_type", sa.String(length=200), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "event_id"),
    )
    op.create_table(
        "outbox",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("message_key", sa.String(length=200), nullable=True),
        sa.Column("headers", sa.Text(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id"),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_unpublished", ["published_at", "id"], unique=False)


def drop_platform_tables() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_unpublished")
    op.drop_table("outbox")
    op.drop_table("inbox")
    op.drop_table("idempotency_keys")
