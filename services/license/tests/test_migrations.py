"""The license migrations on both databases: a database at the first revision with a
license in it upgrades to the models' schema, and the old license reads as valid."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, text

from license.main import create_app, migrations_dir
from license.models import metadata
from license.settings import Settings
from yiwang_platform.db import create_engine
from yiwang_platform.migrations import alembic_config, upgrade
from yiwang_platform.pii import PiiCipher
from yiwang_platform.testing import client, running


async def test_upgrade_keeps_old_licenses_and_matches_the_models(
    backend, signer, verifier, samples
):
    settings = await backend.settings(Settings)
    cipher = PiiCipher.from_settings(settings)  # the key the app will load
    engine = create_engine(settings.resolved_database_url())
    cfg = alembic_config(migrations_dir(), engine.url.render_as_string(hide_password=False))

    def to_first(connection: Connection) -> None:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "0001")

    async with engine.begin() as conn:
        await conn.run_sync(to_first)
        await conn.execute(
            text(
                "INSERT INTO licenses (license_id, license_type, holder_kind, holder_index,"
                " holder_id_encrypted, holder_name, fields, issuer, issued_by, issued_at,"
                " valid_until, signature, seal_key_id) VALUES ('00000000-0000-4000-8000-"
                "000000000001', 'CN-SSC', 'citizen', :index, :holder, '王小明', '{}', '发证机关',"
                " 'staff', :at, NULL, 'sig', 'kid')"
            ),
            {
                "index": cipher.blind_index(samples.citizen),
                "holder": cipher.encrypt(samples.citizen),
                "at": datetime(2026, 1, 1, tzinfo=UTC),
            },
        )
    await upgrade(engine, migrations_dir())

    def differences(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        return list(compare_metadata(context, metadata))

    async with engine.connect() as conn:
        assert await conn.run_sync(differences) == []
        row = (await conn.execute(text("SELECT status, field_salts FROM licenses"))).one()
        assert (row.status, row.field_salts) == ("valid", None)
    await engine.dispose()

    # The app starts on the upgraded database, encrypts the old license's name and fields
    # and lists it as valid.
    app = create_app(settings, bus=backend.bus(), verifier=verifier, configure_logs=False)
    async with running(app), client(app, signer, audience="license") as staff:
        listed = (await staff.get("/api/v1/license/licenses")).json()["items"]
        assert [(i["license_id"][-1], i["status"], i["holder_name"]) for i in listed] == [
            ("1", "valid", "王小明")
        ]
        async with app.state.runtime.sessions() as s:
            row = (
                await s.execute(
                    text("SELECT holder_name, fields, holder_name_encrypted FROM licenses")
                )
            ).one()
        assert (row.holder_name, row.fields) == (None, None)
        assert cipher.decrypt(row.holder_name_encrypted) == "王小明"
