"""The intake migrations on SQLite and PostgreSQL: head matches the models, and 0005
counts cases the applicant submitted online as present while window cases wait."""

from __future__ import annotations

import json

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, text

from intake.main import migrations_dir
from intake.models import metadata
from intake.settings import Settings
from yiwang_platform.db import create_engine
from yiwang_platform.migrations import _render_item, alembic_config, upgrade

CASE = (
    "INSERT INTO cases (id, matter_code, matter_version, matter_name, department, "
    "promised_days, channel, status, applicant_encrypted, applicant_index, form_encrypted, "
    "submitted_at, due_date, assigned_to, applicant_kind, materials, plan, "
    "required_materials, missing_materials, requested_materials, suspended_working_days) "
    "VALUES (:id, 'M', 1, 'm', 'd', 1, :channel, 'submitted', 'x', 'i', 'f', "
    "'2026-11-30 02:00:00+00:00', '2026-12-01', :assigned_to, 'citizen', '[]', '[]', "
    "'[]', '[]', '[]', 0)"
)


def _differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"render_item": _render_item})
    return list(compare_metadata(context, metadata))


async def test_head_matches_the_models_and_0005_backfills_presence(backend):
    settings = await backend.settings(Settings)
    engine = create_engine(settings.resolved_database_url())
    cfg = alembic_config(migrations_dir(), settings.resolved_database_url())

    def to(revision: str):
        def run(connection: Connection) -> None:
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, revision)

        return run

    try:
        async with engine.begin() as conn:
            await conn.run_sync(to("0003"))
            await conn.execute(
                text(CASE), {"id": "online", "channel": "online", "assigned_to": None}
            )
            await conn.execute(
                text(CASE), {"id": "window", "channel": "window", "assigned_to": "window-7"}
            )
        await upgrade(engine, migrations_dir())
        async with engine.connect() as conn:
            assert await conn.run_sync(_differences) == []
            rows = dict(
                (await conn.execute(text("SELECT id, presence FROM cases ORDER BY id"))).all()
            )
        presence = {k: json.loads(v) if isinstance(v, str) else v for k, v in rows.items()}
        assert presence == {"online": {"method": "applicant"}, "window": None}
    finally:
        await engine.dispose()
