"""The population batch endpoint and listing on both backends: good records apply,
bad ones are reported, versions never go backwards, and nothing personal leaks."""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import func, select

from data_exchange.models import PopulationRecord, outbox
from yiwang_platform.testing import client, running

from .factories import county_client, id_number, make_app
from .factories import population_record as record

RECORDS = "/api/v1/data-exchange/population/records"


def with_bad_checksum(number: str) -> str:
    return number[:-1] + ("1" if number[-1] != "1" else "2")


ZHANG = id_number(date(1990, 1, 1), 123)  # ends in 7
LI = id_number(date(1988, 6, 30), 456)
WANG = id_number(date(2001, 12, 9), 789)


async def counts(app) -> tuple[int, int]:
    async with app.state.runtime.sessions() as s:
        records = await s.scalar(select(func.count()).select_from(PopulationRecord))
        # Record events only (each access also adds an access-log event).
        events = await s.scalar(
            select(func.count())
            .select_from(outbox)
            .where(outbox.c.topic == "data-exchange.record.v1")
        )
    return records, events


async def test_a_batch_applies_good_records_and_reports_bad_ones(backend, signer, verifier):
    app = await make_app(backend, verifier)
    bad_checksum = with_bad_checksum(WANG)
    async with (
        running(app),
        county_client(app, signer, "county-110101") as county,
    ):
        first = await county.post(
            RECORDS,
            json={
                "records": [
                    record(ZHANG, date(1990, 1, 1)),
                    record(LI, date(1988, 6, 30), name="李四", sex="女"),
                    record(bad_checksum, date(2001, 12, 9)),
                    record(WANG, date(2001, 12, 10)),
                    {k: v for k, v in record(WANG, date(2001, 12, 9)).items() if k != "name"},
                    record(WANG, date(2001, 12, 9), photo="base64..."),
                    record(WANG, date(2001, 12, 9), source="hukou"),
                ]
            },
        )
        assert first.status_code == 200
        results = first.json()["results"]
        assert [(r["index"], r["status"], r.get("reason")) for r in results] == [
            (0, "created", None),
            (1, "created", None),
            (2, "rejected", "id_number: invalid checksum"),
            (3, "rejected", "birth_date: does not match id_number"),
            (4, "rejected", "name: Field required"),
            (5, "rejected", "photo: Extra inputs are not permitted"),
            (6, "rejected", "source: String should match pattern '^[0-9]{6}-[a-z0-9-]{1,40}$'"),
        ]
        assert first.json()["summary"] == {
            "accepted": 2,
            "unchanged": 0,
            "stale": 0,
            "rejected": 5,
        }
        assert all("record_id" not in r for r in results[2:])
        for number in (ZHANG, LI, WANG, bad_checksum):
            assert number not in first.text
        assert await counts(app) == (2, 2)

        zhang_id = results[0]["record_id"]
        second = await county.post(
            RECORDS,
            json={
                "records": [
                    record(ZHANG, date(1990, 1, 1), version=2, marital_status="已婚"),
                    record(LI, date(1988, 6, 30), name="李四", sex="女"),
                    record(ZHANG, date(1990, 1, 1), version=1, name="张三丰"),
                    record(ZHANG, date(1990, 1, 1), version=2, name="张三丰"),
                    # Another county's system: the person moved, their record replaces ours.
                    record(LI, date(1988, 6, 30), name="李四", sex="女", source="330106-hukou"),
                ]
            },
        )
        assert [(r["index"], r["status"], r["record_id"]) for r in second.json()["results"]] == [
            (0, "updated", zhang_id),
            (1, "unchanged", results[1]["record_id"]),
            (2, "stale", zhang_id),
            (3, "unchanged", zhang_id),
            (4, "updated", results[1]["record_id"]),
        ]
        assert second.json()["summary"] == {
            "accepted": 2,
            "unchanged": 2,
            "stale": 1,
            "rejected": 0,
        }
        assert await counts(app) == (2, 4)

        async with app.state.runtime.sessions() as s:
            zhang = await s.get(PopulationRecord, zhang_id)
        cipher = app.state.runtime.cipher
        assert (zhang.source_version, zhang.marital_status) == (2, "已婚")
        assert cipher.decrypt(zhang.name) == "张三"
        assert zhang.id_number != ZHANG and cipher.decrypt(zhang.id_number) == ZHANG
        assert zhang.household_address != "北京市东城区景山前街4号"
        assert cipher.decrypt(zhang.household_address) == "北京市东城区景山前街4号"
        assert zhang.id_index == cipher.blind_index(ZHANG)


async def test_upserts_are_published_without_personal_data(backend, signer, verifier, read_topic):
    app = await make_app(backend, verifier)
    async with (
        running(app),
        client(app, signer, audience="data-exchange", principal_type="county") as county,
    ):
        response = await county.post(
            RECORDS, json={"records": [record(ZHANG, date(1990, 1, 1), version=7)]}
        )
        record_id = response.json()["results"][0]["record_id"]
        messages = await read_topic("data-exchange.record.v1", 1)
        assert len(messages) == 1
        data = json.loads(messages[0].value)
        assert messages[0].key == record_id.encode()
        assert dict(messages[0].headers)["ce_type"] == b"gov.data-exchange.record.upserted.v1"
        assert {k: v for k, v in data.items() if k != "upserted_at"} == {
            "record_id": record_id,
            "library": "population",
            "source": "110101-hukou",
            "source_version": 7,
        }
        assert ZHANG.encode() not in messages[0].value
        assert "张三".encode() not in messages[0].value


async def test_listing_masks_id_numbers_and_names(backend, signer, verifier):
    app = await make_app(backend, verifier)
    async with running(app):
        async with client(app, signer, audience="data-exchange", principal_type="county") as county:
            await county.post(
                RECORDS,
                json={
                    "records": [
                        record(ZHANG, date(1990, 1, 1)),
                        record(LI, date(1988, 6, 30), name="欧阳娜娜", sex="女"),
                    ]
                },
            )
            first = (await county.get(RECORDS, params={"limit": 1})).json()
            rest = (await county.get(RECORDS, params={"cursor": first["next_cursor"]})).json()
            assert rest["next_cursor"] is None
        items = first["items"] + rest["items"]
        assert sorted((i["id_number"], i["name"], i["birth_date"]) for i in items) == sorted(
            [
                (f"{ZHANG[:6]}********{ZHANG[-1]}", "张*", "1990-01-01"),
                (f"{LI[:6]}********{LI[-1]}", "欧***", "1988-06-30"),
            ]
        )
        assert all("household_address" not in i for i in items)

        async with client(app, signer, audience="data-exchange", principal_type="staff") as staff:
            listed = await staff.get(RECORDS)
            assert listed.status_code == 200
            assert ZHANG not in listed.text and "张三" not in listed.text
            assert len(listed.json()["items"]) == 2

        async with client(
            app, signer, audience="data-exchange", principal_type="citizen", subject=ZHANG
        ) as citizen:
            refused = await citizen.get(RECORDS)
            assert refused.status_code == 403
            assert refused.headers["content-type"] == "application/problem+json"
            assert refused.json()["code"] == "forbidden"
            write = await citizen.post(RECORDS, json={"records": [record(ZHANG, date(1990, 1, 1))]})
            assert (write.status_code, write.json()["code"]) == (403, "forbidden")


async def test_bad_batches_are_problems(backend, signer, verifier):
    app = await make_app(backend, verifier)
    async with running(app):
        async with client(app, signer, audience="data-exchange", principal_type="county") as county:
            too_big = await county.post(
                RECORDS, json={"records": [record(ZHANG, date(1990, 1, 1))] * 501}
            )
            assert (too_big.status_code, too_big.json()["code"]) == (422, "validation_failed")
            assert too_big.headers["content-type"] == "application/problem+json"
            empty = await county.post(RECORDS, json={"records": []})
            assert (empty.status_code, empty.json()["code"]) == (422, "validation_failed")
            not_a_list = await county.post(RECORDS, json={"records": "all of them"})
            assert (not_a_list.status_code, not_a_list.json()["code"]) == (422, "validation_failed")
        async with client(app, None, audience="data-exchange") as anonymous:
            assert (await anonymous.get(RECORDS)).status_code == 401
        async with client(
            app, signer, audience="license", principal_type="county"
        ) as wrong_audience:
            assert (await wrong_audience.get(RECORDS)).status_code == 401
        async with client(app, signer, audience="data-exchange") as api:
            ready = await api.get("/readyz")
            assert (ready.status_code, ready.json()["checks"]) == (
                200,
                {"database": "ok"},
            )
        assert await counts(app) == (0, 0)


async def test_idempotency_key_replays_and_rejects_a_different_body(backend, signer, verifier):
    app = await make_app(backend, verifier)
    async with (
        running(app),
        client(app, signer, audience="data-exchange", principal_type="county") as county,
    ):
        headers = {"Idempotency-Key": "batch-0001"}
        batch = {"records": [record(ZHANG, date(1990, 1, 1))]}
        first = await county.post(RECORDS, json=batch, headers=headers)
        again = await county.post(RECORDS, json=batch, headers=headers)
        other = await county.post(
            RECORDS, json={"records": [record(LI, date(1988, 6, 30))]}, headers=headers
        )
        assert first.status_code == again.status_code == 200
        assert again.json() == first.json()
        assert first.json()["results"][0]["status"] == "created"
        assert (other.status_code, other.json()["code"]) == (409, "idempotency_key_reused")
        assert await counts(app) == (1, 1)
