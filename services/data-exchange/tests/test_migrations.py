"""The data-exchange migrations on SQLite and PostgreSQL: head matches the models, and
the legal-person and household revision goes down and up again."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect

from data_exchange.main import migrations_dir
from data_exchange.models import metadata
from data_exchange.settings import Settings
from yiwang_platform.db import create_engine
from yiwang_platform.migrations import _render_item, alembic_config, upgrade


def _tables_and_columns(connection: Connection) -> dict[str, set[str]]:
    found = inspect(connection)
    return {
        name: {c["name"] for c in found.get_columns(name)}
        for name in ("population_records", "legal_person_records")
        if found.has_table(name)
    }


def _differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"render_item": _render_item})
    return list(compare_metadata(context, metadata))


async def test_head_matches_the_models_and_0004_goes_down_and_up(backend):
    settings = await backend.settings(Settings)
    engine = create_engine(settings.resolved_database_url())
    try:
        await upgrade(engine, migrations_dir())
        async with engine.connect() as conn:
            assert await conn.run_sync(_differences) == []
            tables = await conn.run_sync(_tables_and_columns)
        assert {"household_number", "spouse_id_number", "spouse_index"} <= tables[
            "population_records"
        ]
        assert "representative_index" in tables["legal_person_records"]

        cfg = alembic_config(migrations_dir(), settings.resolved_database_url())

        def down(connection: Connection) -> None:
            cfg.attributes["connection"] = connection
            command.downgrade(cfg, "0003")

        async with engine.begin() as conn:
            await conn.run_sync(down)
        async with engine.connect() as conn:
            tables = await conn.run_sync(_tables_and_columns)
        assert set(tables) == {"population_records"}
        assert "household_number" not in tables["population_records"]

        await upgrade(engine, migrations_dir())
        async with engine.connect() as conn:
            assert await conn.run_sync(_differences) == []
    finally:
        await engine.dispose()
