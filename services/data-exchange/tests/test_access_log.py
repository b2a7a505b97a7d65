"""The data-library access log on both backends: batch writes, listings and license
look-ups append hash-chained entries and publish them; refused look-ups are logged
too; tampering is found; concurrent readers keep one chain; a citizen's own log shows
only the accesses to their data."""

from __future__ import annotations

import asyncio
import functools
import json
import uuid
from datetime import UTC, date, datetime

from sqlalchemy import func, select, text

from data_exchange import access_audit, license_index
from data_exchange.events import LicenseIssuedIn
from data_exchange.main import create_app
from data_exchange.models import access_log, access_log_checkpoints
from data_exchange.settings import Settings
from yiwang_platform.audit_chain import chain_hash, chain_key, verify
from yiwang_platform.testing import client, eventually, running

from .factories import county_client, id_number, make_app, resident, window_staff

RECORDS = "/api/v1/data-exchange/population/records"
LICENSES = "/api/v1/data-exchange/licenses"
MINE = "/api/v1/data-exchange/access-log/mine"
AUDIT = "/api/v1/data-exchange/audit"
LISTED = sorted(
    f"population.{f}"
    for f in ("id_number", "name", "sex", "ethnicity", "birth_date", "marital_status")
)


person = functools.partial(resident, source="110101-hukou", sex="女")
ZHANG = id_number(date(1990, 1, 1), 123)
LI = id_number(date(1988, 6, 30), 456)


async def entries(app) -> list[tuple[int, str, dict]]:
    async with app.state.runtime.sessions() as s:
        rows = (await s.execute(select(access_log.c.seq, access_log.c.entry).order_by("seq"))).all()
    return [(r.seq, r.entry, json.loads(r.entry)) for r in rows]


async def push_people(app, signer) -> None:
    async with county_client(app, signer, "county-1") as c:
        pushed = await c.post(
            RECORDS,
            json={
                "records": [
                    person(ZHANG, date(1990, 1, 1), name="张三"),
                    person("110101199001011230", date(1990, 1, 1), name="坏号"),
                    person(LI, date(1988, 6, 30), name="李四"),
                ]
            },
        )
        assert [r["status"] for r in pushed.json()["results"]] == ["created", "rejected", "created"]


async def test_reads_and_writes_are_logged_chained_and_published(
    backend, signer, verifier, read_topic
):
    app = await make_app(backend, verifier)
    async with running(app):
        cipher = app.state.runtime.cipher
        zhang, li = cipher.blind_index(ZHANG), cipher.blind_index(LI)
        await push_people(app, signer)
        async with window_staff(
            app, signer, kid_of_caller="k-staff-7", scn="window-case-lookup"
        ) as staff:
            assert (await staff.get(RECORDS)).status_code == 200
            assert (await staff.get(LICENSES, params={"holder_index": li})).status_code == 200
        async with client(
            app, signer, audience="data-exchange", principal_type="citizen", subject=ZHANG
        ) as me:
            assert (await me.get(LICENSES, params={"holder_index": zhang})).status_code == 200
            peek = await me.get(LICENSES, params={"holder_index": li})
            assert (peek.status_code, peek.json()["code"]) == (403, "forbidden")

        rows = await entries(app)
        got = [
            (
                e["accessor_type"],
                e["accessor"],
                e["key_id"],
                e["scenario"],
                e["subject_index"],
                e["outcome"],
            )
            for _, _, e in rows
        ]
        listed = sorted([zhang, li])  # the listing goes in record-id order
        order = [r[2]["subject_index"] for r in rows[2:4]]
        assert sorted(order) == listed
        assert got == [
            ("county", "county-1", None, None, zhang, "created"),
            ("county", "county-1", None, None, li, "created"),
            ("staff", "staff-7", "k-staff-7", "window-case-lookup", order[0], "read"),
            ("staff", "staff-7", "k-staff-7", "window-case-lookup", order[1], "read"),
            ("staff", "staff-7", "k-staff-7", "window-case-lookup", li, "read"),
            ("citizen", f"{ZHANG[:6]}********{ZHANG[-1]}", None, None, zhang, "read"),
            ("citizen", f"{ZHANG[:6]}********{ZHANG[-1]}", None, None, li, "refused"),
        ]
        assert [e["fields"] for _, _, e in rows] == [
            ["population.birth_date", "population.id_number", "population.name", "population.sex"],
            ["population.birth_date", "population.id_number", "population.name", "population.sex"],
            LISTED,
            LISTED,
            ["license.index"],
            ["license.index"],
            ["license.index"],
        ]
        assert rows[2][2]["purpose"] == "window-case-lookup"
        for _, raw, _ in rows:
            assert ZHANG not in raw and LI not in raw and "张三" not in raw

        messages = await read_topic("data-exchange.access.v1", 7)
        assert len(messages) == 7
        events = sorted((json.loads(m.value) for m in messages), key=lambda d: d["seq"])
        assert [(d["seq"], d["subject_index"], d["outcome"]) for d in events] == [
            (seq, e["subject_index"], e["outcome"]) for seq, _, e in rows
        ]
        keys = {json.loads(m.value)["seq"]: m.key for m in messages}
        assert keys[1] == zhang.encode() and keys[7] == li.encode()
        assert all(ZHANG.encode() not in m.value for m in messages)

        async with app.state.runtime.sessions() as s:
            assert (
                await verify(s, access_log, key=chain_key(app.state.runtime.settings))
            ).entries_checked == 7
        settings = app.state.runtime.settings
        assert await asyncio.to_thread(access_audit.main, ["verify"], settings) == 0
        async with app.state.runtime.sessions() as s, s.begin():
            await s.execute(text("DELETE FROM access_log WHERE seq = 5"))
        async with app.state.runtime.sessions() as s:
            result = await verify(s, access_log, key=chain_key(app.state.runtime.settings))
        assert (result.ok, result.first_bad_seq, result.reason) == (
            False,
            5,
            "entry 5 is missing (next is 6)",
        )
        assert await asyncio.to_thread(access_audit.main, ["verify"], settings) == 1


async def test_concurrent_readers_keep_one_valid_chain(backend, signer, verifier):
    app = await make_app(backend, verifier)
    async with running(app):
        await push_people(app, signer)
        async with client(app, signer, audience="data-exchange", principal_type="staff") as staff:
            answers = await asyncio.gather(*(staff.get(RECORDS) for _ in range(15)))
        assert {a.status_code for a in answers} == {200}
        async with app.state.runtime.sessions() as s:
            result = await verify(s, access_log, key=chain_key(app.state.runtime.settings))
        assert (result.ok, result.entries_checked) == (True, 2 + 15 * 2)


async def test_a_citizen_sees_only_the_accesses_to_their_own_data(backend, signer, verifier):
    app = await make_app(backend, verifier)
    async with running(app):
        cipher = app.state.runtime.cipher
        await push_people(app, signer)
        async with app.state.runtime.sessions() as s, s.begin():
            await license_index.record_issued(
                s,
                LicenseIssuedIn.model_validate(
                    {
                        "license_id": str(uuid.uuid4()),
                        "license_type": "CN-MARRIAGE-CERT",
                        "holder_kind": "citizen",
                        "holder_index": cipher.blind_index(LI),
                        "issuer": "民政局",
                        "issued_at": datetime(2026, 1, 5, tzinfo=UTC).isoformat(),
                        "valid_until": None,
                    },
                ),
            )
        async with client(
            app, signer, audience="data-exchange", principal_type="staff", subject="s-9"
        ) as staff:
            await staff.get(LICENSES, params={"holder_index": cipher.blind_index(LI)})
        async with client(
            app, signer, audience="data-exchange", principal_type="citizen", subject=ZHANG
        ) as z:
            # Zhang tries Li's licenses: refused, and logged against Li.
            assert (
                await z.get(LICENSES, params={"holder_index": cipher.blind_index(LI)})
            ).status_code == 403
            zhang_log = (await z.get(MINE)).json()
        async with client(
            app, signer, audience="data-exchange", principal_type="citizen", subject=LI
        ) as li:
            li_log = (await li.get(MINE)).json()
            first = (await li.get(MINE, params={"limit": 2})).json()
            rest = (await li.get(MINE, params={"limit": 2, "cursor": first["next_cursor"]})).json()
            bad_cursor = await li.get(MINE, params={"cursor": "bm90LWEtbnVtYmVy"})
        assert [(i["accessor_type"], i["outcome"]) for i in zhang_log["items"]] == [
            ("county", "created")
        ]
        assert [(i["accessor_type"], i["accessor"], i["outcome"]) for i in li_log["items"]] == [
            ("citizen", f"{ZHANG[:6]}********{ZHANG[-1]}", "refused"),
            ("staff", "s-9", "read"),
            ("county", "county-1", "created"),
        ]
        assert [i["seq"] for i in first["items"] + rest["items"]] == [
            i["seq"] for i in li_log["items"]
        ]
        assert rest["next_cursor"] is None
        assert bad_cursor.status_code == 400
        async with client(
            app, signer, audience="data-exchange", principal_type="staff", subject=LI
        ) as other:
            refused = await other.get(MINE)
            assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")


async def test_the_access_log_is_checkpointed_and_a_rebuilt_entry_is_named(
    backend, signer, verifier
):
    settings = await backend.settings(Settings, audit_checkpoint_interval_seconds=0.2)
    app = create_app(settings, bus=backend.bus(), verifier=verifier, configure_logs=False)
    async with running(app):
        await push_people(app, signer)  # entries 1 and 2

        async def signed_on_schedule() -> bool:
            async with app.state.runtime.sessions() as s:
                return await s.scalar(select(func.max(access_log_checkpoints.c.seq))) == 2

        await eventually(signed_on_schedule)
        async with client(app, signer, audience="data-exchange", principal_type="staff") as staff:
            assert (await staff.get(RECORDS)).status_code == 200
        async with client(
            app, signer, audience="data-exchange", principal_type="supervisor"
        ) as auditor:
            made = await auditor.post(AUDIT + "/checkpoints")
            assert made.status_code == 200, made.text
            head = made.json()["seq"]
            listed = (await auditor.get(AUDIT + "/checkpoints")).json()
            assert [c["seq"] for c in listed["items"]][:2] == [head, 2]
            keys = (await auditor.get(AUDIT + "/checkpoints/keys")).json()
            assert {k["kid"] for k in keys["keys"]} == {c["kid"] for c in listed["items"]}
            assert (await auditor.get(AUDIT + "/verify")).json()["ok"] is True

            # A writer holding the HMAC key edits entry 1 and rebuilds the rest.
            key = chain_key(settings)
            async with app.state.runtime.sessions() as s, s.begin():
                rows = (await s.execute(select(access_log).order_by("seq"))).all()
                prev = rows[0].prev_hash
                for row in rows:
                    entry = (
                        row.entry.replace('"created"', '"unchanged"') if row.seq == 1 else row.entry
                    )
                    digest = chain_hash(prev, entry, key=key)
                    await s.execute(
                        access_log.update()
                        .where(access_log.c.seq == row.seq)
                        .values(entry=entry, prev_hash=prev, hash=digest)
                    )
                    prev = digest
            found = (await auditor.get(AUDIT + "/verify")).json()
            assert (found["ok"], found["first_bad_seq"]) == (False, 1)
            assert found["reason"] == "entry differs from the one checkpoint 2 signed"
        async with client(app, signer, audience="data-exchange", principal_type="staff") as staff:
            assert (await staff.get(AUDIT + "/checkpoints")).status_code == 403
        assert await asyncio.to_thread(access_audit.main, ["verify"], settings) == 1
