"""The gateway's hash-chained audit log and the citizen's own access log, on both
backends: decisions (allowed and refused) become chained entries and events with no
ID number in clear; the verify endpoint and CLI report the first tampered entry; a
citizen sees only the data-library accesses about themselves."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import date

import pytest
from jwt.algorithms import OKPAlgorithm
from sqlalchemy import select, text

from gateway.audit import cli as audit
from gateway.identity.principal import Principal
from gateway.models import audit_entries
from gateway.tests.conftest import act_as, gateway_client, id_number, person, push_people
from yiwang_platform.audit_chain import chain_hash
from yiwang_platform.pii import PiiCipher
from yiwang_platform.testing import eventually, running

ZHANG = id_number(date(1990, 1, 1), 123)
LI = id_number(date(1988, 6, 30), 456)
KEY = base64.b64encode(bytes(range(100, 132))).decode()

CALLERS = {
    "zhang": Principal(ZHANG, "citizen", acr="L2", key_id="k-zhang"),
    "zhang-l1": Principal(ZHANG, "citizen", acr="L1", key_id="k-zhang"),
    "li": Principal(LI, "citizen", acr="L2", key_id="k-li"),
    "supervisor": Principal("sup-1", "supervisor"),
    "operator": Principal("op-1", "operator"),
    "window-7": Principal("staff-7", "staff", roles=("window",), key_id="k-staff-7"),
}


async def _platform(service_app, gateway_app, **overrides):
    exchange = await service_app("data_exchange", **overrides)
    front = await gateway_app({"data-exchange": exchange}, **overrides)
    act_as(front, CALLERS)
    return exchange, front, front.state.runtime.settings


def _h(caller: str, scenario: str | None = None) -> dict[str, str]:
    return {"X-As": caller, **({"X-Scenario": scenario} if scenario else {})}


async def _entries(front) -> list[tuple[int, str, dict]]:
    async with front.state.runtime.sessions() as s:
        rows = (
            await s.execute(select(audit_entries.c.seq, audit_entries.c.entry).order_by("seq"))
        ).all()
    return [(r.seq, r.entry, json.loads(r.entry)) for r in rows]


async def _wait_for_entries(front, count: int) -> list[tuple[int, str, dict]]:
    async def written() -> bool:
        return len(await _entries(front)) >= count

    await eventually(written)
    return await _entries(front)


async def test_decisions_are_chained_masked_published_and_verified(
    service_app, gateway_app, signer, read_topic, capsys
):
    exchange, front, settings = await _platform(service_app, gateway_app, audit_chain_key=KEY)
    async with running(exchange), running(front), gateway_client(front) as gw:
        await push_people(exchange, signer, person(ZHANG, date(1990, 1, 1), "张三"))
        # 1: allowed under a scenario; 2: refused (no scenario named); 3: refused (L1 too low);
        # 4: allowed, no scenario covers the route, the ID number in the path.
        own = await gw.get(
            "/api/v1/data-exchange/population/people/self",
            headers=_h("zhang", "citizen-self-lookup"),
        )
        assert own.status_code == 200, own.text
        missing = await gw.get("/api/v1/data-exchange/population/people/self", headers=_h("zhang"))
        assert (missing.status_code, missing.json()["code"]) == (403, "scenario_required")
        weak = await gw.get(
            "/api/v1/data-exchange/population/people/self",
            headers=_h("zhang-l1", "citizen-self-lookup"),
        )
        assert (weak.status_code, weak.json()["code"]) == (403, "assurance_too_low")
        odd = await gw.get(f"/api/v1/data-exchange/people/{ZHANG}", headers=_h("zhang"))
        assert odd.status_code == 404

        rows = await _wait_for_entries(front, 4)
        assert [seq for seq, _, _ in rows] == [1, 2, 3, 4]
        cipher = PiiCipher.from_settings(settings)
        masked = f"{ZHANG[:6]}********{ZHANG[-1]}"
        for _, raw, entry in rows:
            assert ZHANG not in raw
            assert (entry["subject"], entry["subject_index"], entry["key_id"]) == (
                masked,
                cipher.blind_index(ZHANG),
                "k-zhang",
            )
            assert entry["principal_type"] == "citizen"
            assert entry["service"] == "data-exchange"
            assert entry["method"] == "GET"
        summary = [
            (e["decision"], e["reason"], e["status"], e["scenario"], e["path"]) for _, _, e in rows
        ]
        assert summary == [
            (
                "allowed",
                None,
                200,
                "citizen-self-lookup",
                "/api/v1/data-exchange/population/people/self",
            ),
            (
                "refused",
                "scenario_required",
                403,
                None,
                "/api/v1/data-exchange/population/people/self",
            ),
            (
                "refused",
                "assurance_too_low",
                403,
                "citizen-self-lookup",
                "/api/v1/data-exchange/population/people/self",
            ),
            ("allowed", None, 404, None, f"/api/v1/data-exchange/people/{masked}"),
        ]
        assert rows[0][2]["fields"] == [
            f"population.{f}"
            for f in sorted(
                ["name", "sex", "ethnicity", "birth_date", "household_address", "marital_status"]
            )
        ]
        assert rows[1][2]["fields"] == []

        messages = await read_topic("gateway.access.v1", 4)
        events = sorted((json.loads(m.value) for m in messages), key=lambda d: d["audit_seq"])
        assert [(d["audit_seq"], d["decision"], d["reason"], d["status"]) for d in events] == [
            (1, "allowed", None, 200),
            (2, "refused", "scenario_required", 403),
            (3, "refused", "assurance_too_low", 403),
            (4, "allowed", None, 404),
        ]
        async with front.state.runtime.sessions() as s:
            hashes = (await s.scalars(select(audit_entries.c.hash).order_by("seq"))).all()
        assert [d["audit_hash"] for d in events] == list(hashes)
        assert all(ZHANG.encode() not in m.value for m in messages)

        # The verify endpoint: supervisors and operators only.
        verified = await gw.get("/api/v1/gateway/audit/verify", headers=_h("supervisor"))
        assert verified.status_code == 200
        assert verified.json() == {
            "ok": True,
            "entries_checked": 4,
            "first_bad_seq": None,
            "reason": None,
            "head_hash": hashes[-1],
            "checkpoints_checked": 0,
        }
        assert (await gw.get("/api/v1/gateway/audit/verify", headers=_h("operator"))).json()["ok"]
        refused = await gw.get("/api/v1/gateway/audit/verify", headers=_h("zhang"))
        assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
        listed = await gw.get("/api/v1/gateway/audit", headers=_h("zhang"))
        assert listed.status_code == 403

        by_subject = await gw.get(
            "/api/v1/gateway/audit",
            params={"subject_index": cipher.blind_index(ZHANG), "limit": 3},
            headers=_h("supervisor"),
        )
        page = by_subject.json()
        assert [i["seq"] for i in page["items"]] == [4, 3, 2]
        rest = await gw.get(
            "/api/v1/gateway/audit",
            params={"subject_index": cipher.blind_index(ZHANG), "cursor": page["next_cursor"]},
            headers=_h("supervisor"),
        )
        assert [i["seq"] for i in rest.json()["items"]] == [1]

        # The CLI, with the gateway's settings (and without the key: not the same chain).
        assert await asyncio.to_thread(audit.main, ["verify"], settings) == 0
        assert capsys.readouterr().out == f"OK: 4 entries, head {hashes[-1]}\n"
        keyless = settings.model_copy(update={"audit_chain_key": ""})
        assert await asyncio.to_thread(audit.main, ["verify"], keyless) == 1
        assert "TAMPERED at seq 1" in capsys.readouterr().out
        assert audit.main(["check"], settings) == 2

        async with front.state.runtime.sessions() as s, s.begin():
            await s.execute(
                text(
                    "UPDATE audit_entries SET entry = replace(entry, 'refused', 'allowed') WHERE seq = 3"
                )
            )
        tampered = (await gw.get("/api/v1/gateway/audit/verify", headers=_h("supervisor"))).json()
        assert tampered == {
            "ok": False,
            "entries_checked": 2,
            "first_bad_seq": 3,
            "reason": "hash does not match the entry",
            "head_hash": None,
            "checkpoints_checked": 0,
        }
        assert await asyncio.to_thread(audit.main, ["verify"], settings) == 1
        assert capsys.readouterr().out == (
            "TAMPERED at seq 3: hash does not match the entry (2 entries before it hold)\n"
        )


async def test_signed_checkpoints_name_an_entry_rebuilt_by_a_key_holder(service_app, gateway_app):
    exchange, front, settings = await _platform(service_app, gateway_app, audit_chain_key=KEY)
    async with running(exchange), running(front), gateway_client(front) as gw:
        for _ in range(4):
            refused = await gw.get(
                "/api/v1/data-exchange/population/people/self", headers=_h("zhang")
            )
            assert refused.status_code == 403
        # On demand (the periodic task does the same every interval); it waits for the
        # queued entries to be written.
        made = await gw.post("/api/v1/gateway/audit/checkpoints", headers=_h("operator"))
        assert made.status_code == 200, made.text
        assert (made.json()["from_seq"], made.json()["seq"]) == (1, 4)
        await gw.get("/api/v1/data-exchange/population/people/self", headers=_h("zhang"))
        await _wait_for_entries(front, 5)

        listed = (
            await gw.get("/api/v1/gateway/audit/checkpoints", headers=_h("supervisor"))
        ).json()
        assert [c["seq"] for c in listed["items"]] == [4]
        keys = (
            await gw.get("/api/v1/gateway/audit/checkpoints/keys", headers=_h("supervisor"))
        ).json()
        published = listed["items"][0]
        public = OKPAlgorithm.from_jwk(json.dumps(keys["keys"][0]))
        assert keys["keys"][0]["kid"] == published["kid"]
        public.verify(  # type: ignore[union-attr]
            base64.urlsafe_b64decode(published["signature"] + "=="),
            published["payload"].encode(),
        )
        refused = await gw.get("/api/v1/gateway/audit/checkpoints", headers=_h("zhang"))
        assert refused.status_code == 403

        # Someone holding the HMAC key edits entry 2 and rebuilds the chain after it.
        key = base64.b64decode(KEY)
        async with front.state.runtime.sessions() as s, s.begin():
            rows = (await s.execute(select(audit_entries).order_by("seq"))).all()
            prev = rows[0].prev_hash
            for row in rows:
                entry = row.entry
                if row.seq == 2:
                    entry = entry.replace("refused", "allowed")
                digest = chain_hash(prev, entry, key=key)
                await s.execute(
                    audit_entries.update()
                    .where(audit_entries.c.seq == row.seq)
                    .values(entry=entry, prev_hash=prev, hash=digest)
                )
                prev = digest
        found = (await gw.get("/api/v1/gateway/audit/verify", headers=_h("supervisor"))).json()
        assert (found["ok"], found["first_bad_seq"], found["reason"]) == (
            False,
            2,
            "entry differs from the one checkpoint 4 signed",
        )

        # Cutting off the newest entries shows against the checkpoint.
        async with front.state.runtime.sessions() as s, s.begin():
            await s.execute(audit_entries.delete().where(audit_entries.c.seq >= 2))
        cut = (await gw.get("/api/v1/gateway/audit/verify", headers=_h("supervisor"))).json()
        assert (cut["ok"], cut["first_bad_seq"], cut["reason"]) == (
            False,
            2,
            "entries 2 to 4 are missing: checkpoint 4 covers them",
        )
        assert await asyncio.to_thread(audit.main, ["verify"], settings) == 1


@pytest.mark.parametrize("reader", ["zhang", "li"])
async def test_a_citizen_sees_only_accesses_to_their_own_data(
    service_app, gateway_app, signer, reader
):
    exchange, front, settings = await _platform(service_app, gateway_app)
    async with running(exchange), running(front), gateway_client(front) as gw:
        await push_people(
            exchange,
            signer,
            person(ZHANG, date(1990, 1, 1), "张三"),
            person(LI, date(1988, 6, 30), "李四"),
        )
        listed = await gw.get("/api/v1/data-exchange/population/records", headers=_h("window-7"))
        assert listed.status_code == 200, listed.text

        own = await gw.get("/api/v1/me/access-log", headers=_h(reader))
        assert own.status_code == 200, own.text
        items = own.json()["items"]
        assert [(i["accessor_type"], i["accessor"], i["outcome"]) for i in items] == [
            ("staff", "staff-7", "read"),
            ("county", "test-user", "created"),
        ]
        assert items[0]["fields"] == sorted(
            f"population.{f}"
            for f in ("id_number", "name", "sex", "ethnicity", "birth_date", "marital_status")
        )
        other = LI if reader == "zhang" else ZHANG
        assert other not in own.text
        assert PiiCipher.from_settings(settings).blind_index(other) not in own.text

        # The page is chosen by the caller's identity, never by a parameter.
        smuggled = await gw.get(
            "/api/v1/me/access-log",
            params={"subject_index": PiiCipher.from_settings(settings).blind_index(other)},
            headers=_h(reader),
        )
        assert smuggled.json()["items"] == items

        first = await gw.get("/api/v1/me/access-log", params={"limit": 1}, headers=_h(reader))
        second = await gw.get(
            "/api/v1/me/access-log",
            params={"limit": 1, "cursor": first.json()["next_cursor"]},
            headers=_h(reader),
        )
        assert [i["seq"] for i in first.json()["items"] + second.json()["items"]] == [
            i["seq"] for i in items
        ]

        staff = await gw.get("/api/v1/me/access-log", headers=_h("window-7"))
        assert (staff.status_code, staff.json()["code"]) == (403, "forbidden")
