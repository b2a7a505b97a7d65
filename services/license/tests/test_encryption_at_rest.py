"""Licenses at rest, on both databases: the holder's name and the license's fields are
stored encrypted (nothing of them in clear in the table), the seal still verifies,
and the wallet, reads and presentations still show them; licenses stored in clear
before are encrypted when the service starts."""

from __future__ import annotations

import json

from sqlalchemy import text, update

from license.main import create_app
from license.models import License
from license.settings import Settings
from yiwang_platform.testing import client, running

HOLDER_NAME = "王小明"


async def stored_text(app) -> str:
    """Every value of every license row, as the database returns it."""
    async with app.state.runtime.sessions() as s:
        rows = (await s.execute(text("SELECT * FROM licenses"))).all()
    return json.dumps([[str(v) for v in row] for row in rows], ensure_ascii=False)


async def still_works(app, signer, holder: str, license_id: str, fields: dict[str, str]) -> None:
    async with client(
        app, signer, audience="license", principal_type="citizen", subject=holder
    ) as me:
        wallet = (await me.get("/api/v1/license/wallet")).json()["items"]
        assert [(i["license_id"], i["holder_name"], i["fields"]) for i in wallet] == [
            (license_id, HOLDER_NAME, fields)
        ]
        read = (await me.get(f"/api/v1/license/licenses/{license_id}")).json()
        assert (read["holder_name"], read["fields"]) == (HOLDER_NAME, fields)
        verified = await me.post(f"/api/v1/license/licenses/{license_id}/verify")
        assert verified.json() == {"valid": True}
        shown = await me.post(
            f"/api/v1/license/licenses/{license_id}/presentations",
            json={"fields": ["newborn_name", "sex"]},
        )
        assert shown.status_code == 201, shown.text
    async with client(app, signer, audience="license", subject="staff-0002") as clerk:
        checked = await clerk.post(
            "/api/v1/license/presentations/verify",
            json={"presentation": shown.json()["presentation"]},
        )
    assert checked.json()["valid"] is True
    assert checked.json()["fields"] == {"newborn_name": fields["newborn_name"], "sex": "男"}


async def test_names_and_fields_are_not_stored_in_clear(app, signer, samples, issue_license):
    async with client(app, signer, audience="license", subject="staff-0571") as staff:
        issued = await issue_license(staff, samples.citizen, samples.birth_fields)
    license_id = issued["license_id"]
    stored = await stored_text(app)
    assert license_id in stored
    for value in [HOLDER_NAME, samples.citizen, *samples.birth_fields.values()]:
        assert value not in stored, value
    await still_works(app, signer, samples.citizen, license_id, samples.birth_fields)


async def test_licenses_stored_in_clear_are_encrypted_when_the_service_starts(
    backend, signer, verifier, samples, issue_license
):
    settings = await backend.settings(Settings, seal_issuer="杭州市电子证照中心")
    first = create_app(settings, bus=backend.bus(), verifier=verifier, configure_logs=False)
    async with running(first):
        async with client(first, signer, audience="license", subject="staff-0571") as staff:
            issued = await issue_license(staff, samples.citizen, samples.birth_fields)
        license_id = issued["license_id"]
        # As the row of a license issued before encryption at rest reads after 0003.
        async with first.state.runtime.sessions() as s, s.begin():
            await s.execute(
                update(License)
                .where(License.license_id == license_id)
                .values(
                    holder_name_encrypted=None,
                    fields_encrypted=None,
                    legacy_holder_name=HOLDER_NAME,
                    legacy_fields=samples.birth_fields,
                )
            )
        assert HOLDER_NAME in await stored_text(first)
        # Until the next start it still reads and verifies.
        await still_works(first, signer, samples.citizen, license_id, samples.birth_fields)

    again = create_app(settings, bus=backend.bus(), verifier=verifier, configure_logs=False)
    async with running(again):
        stored = await stored_text(again)
        for value in [HOLDER_NAME, *samples.birth_fields.values()]:
            assert value not in stored, value
        await still_works(again, signer, samples.citizen, license_id, samples.birth_fields)
