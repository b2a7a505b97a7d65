"""Versions published before the implementation-list elements existed keep working."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import command

from matters.main import migrations_dir
from matters.settings import Settings
from yiwang_platform.db import create_engine
from yiwang_platform.migrations import alembic_config
from yiwang_platform.testing import client, running

FIRST_RELEASE = sa.table(
    "matters",
    sa.column("code", sa.String),
    sa.column("version", sa.Integer),
    sa.column("name", sa.String),
    sa.column("kind", sa.String),
    sa.column("department", sa.String),
    sa.column("promised_days", sa.Integer),
    sa.column("published_at", sa.DateTime(timezone=True)),
)


async def test_a_version_from_the_first_schema_reads_with_empty_elements(
    backend, matters_app, signer
):
    url = (await backend.settings(Settings)).resolved_database_url()
    engine = create_engine(url)
    config = alembic_config(migrations_dir(), url)

    def first_schema(connection: sa.Connection) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")

    async with engine.begin() as conn:
        await conn.run_sync(first_schema)
        await conn.execute(
            FIRST_RELEASE.insert().values(
                code="11000000000001",
                version=1,
                name="出生医学证明签发",
                kind="行政确认",
                department="市卫生健康委员会",
                promised_days=5,
                published_at=datetime(2026, 11, 1, tzinfo=UTC),
            )
        )
    await engine.dispose()

    app = await matters_app(seed=False)  # migrates to the newest revision
    async with running(app), client(app, signer, audience="matters", roles=["catalogue"]) as api:
        old = (await api.get("/api/v1/matters/matters/11000000000001")).json()
        assert (old["version"], old["promised_days"]) == (1, 5)
        assert (old["materials"], old["situations"], old["keywords"]) == ([], [], [])
        assert (old["legal_days"], old["license_type"], old["cross_province"]) == (
            None,
            None,
            False,
        )
        found = (await api.get("/api/v1/matters/search", params={"q": "出生医学证明"})).json()
        assert [i["code"] for i in found["items"]] == ["11000000000001"]
        again = await api.post(
            "/api/v1/matters/matters",
            json={
                "code": "11000000000001",
                "name": "出生医学证明签发",
                "kind": "行政确认",
                "department": "市卫生健康委员会",
                "promised_days": 3,
                "legal_days": 10,
            },
        )
        assert (again.status_code, again.json()["version"]) == (201, 2)
