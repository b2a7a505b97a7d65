"""Consuming on both backends: county population records (validated, idempotent,
versioned, dead-lettered when bad) and issued licenses (indexed once)."""

from __future__ import annotations

import functools
import json
import uuid
from datetime import date

from sqlalchemy import func, select

from data_exchange.models import LicenseIndexEntry, PopulationRecord, inbox, outbox
from yiwang_platform.bus import OutgoingMessage
from yiwang_platform.events import CloudEvent
from yiwang_platform.testing import client, eventually, running

from .factories import county_person as person
from .factories import id_number as resident_id
from .factories import license_issued as license_event
from .factories import make_app

COUNTY_TYPE = "gov.county.population.record.v1"
COUNTY_TOPIC = "data-exchange.inbound.population.v1"
LICENSE_TOPIC = "license.license.v1"
WAIT = 60.0  # joining a Kafka consumer group takes a few seconds

id_number = functools.partial(resident_id, area="110105")


async def publish(app, topic: str, *events: CloudEvent, key: str = "county-330106") -> None:
    # One key keeps the events on one partition, so they are consumed in this order.
    await app.state.runtime.bus.publish(
        [OutgoingMessage(topic, key.encode(), ce.value(), ce.headers()) for ce in events]
    )


def county_event(data: dict[str, object]) -> CloudEvent:
    return CloudEvent(type=COUNTY_TYPE, source="/test", data=data, subject="county-330106")


async def stored(app, number: str) -> PopulationRecord | None:
    cipher = app.state.runtime.cipher
    async with app.state.runtime.sessions() as s:
        return await s.scalar(
            select(PopulationRecord).where(PopulationRecord.id_index == cipher.blind_index(number))
        )


async def count(app, table) -> int:
    async with app.state.runtime.sessions() as s:
        return await s.scalar(select(func.count()).select_from(table))


async def test_a_county_record_is_stored_and_announced(backend, verifier, read_topic):
    number = id_number(date(1992, 8, 15), 101)
    app = await make_app(backend, verifier)
    async with running(app):
        await publish(
            app,
            COUNTY_TOPIC,
            county_event(person(number, date(1992, 8, 15), household_address="杭州市西湖区")),
        )

        async def applied() -> bool:
            return await stored(app, number) is not None

        await eventually(applied, timeout=WAIT)
        row = await stored(app, number)
        cipher = app.state.runtime.cipher
        assert (row.sex, row.birth_date, row.source, row.source_version) == (
            "男",
            date(1992, 8, 15),
            "330106-hukou",
            1,
        )
        assert cipher.decrypt(row.name) == "张三"
        assert cipher.decrypt(row.household_address) == "杭州市西湖区"

        messages = await read_topic("data-exchange.record.v1", 1)
        assert len(messages) == 1
        assert messages[0].key == row.record_id.encode()
        data = json.loads(messages[0].value)
        assert (data["record_id"], data["library"], data["source_version"]) == (
            row.record_id,
            "population",
            1,
        )
        assert number.encode() not in messages[0].value


async def test_a_redelivered_event_applies_once(backend, verifier):
    first = id_number(date(1992, 8, 15), 101)
    marker = id_number(date(1975, 3, 3), 202)
    app = await make_app(backend, verifier)
    async with running(app):
        event = county_event(person(first, date(1992, 8, 15)))
        await publish(
            app, COUNTY_TOPIC, event, event, county_event(person(marker, date(1975, 3, 3)))
        )

        async def marker_applied() -> bool:
            return await stored(app, marker) is not None

        await eventually(marker_applied, timeout=WAIT)
        assert await count(app, PopulationRecord) == 2
        assert await count(app, outbox) == 2
        assert await count(app, inbox) == 2
        assert app.state.runtime.consumer.applied == 2


async def test_an_older_version_does_not_overwrite_a_newer_one(backend, verifier):
    number = id_number(date(1992, 8, 15), 101)
    marker = id_number(date(1975, 3, 3), 202)
    birth = date(1992, 8, 15)
    app = await make_app(backend, verifier)
    async with running(app):
        await publish(
            app,
            COUNTY_TOPIC,
            county_event(person(number, birth, version=3, marital_status="已婚")),
            county_event(person(number, birth, version=2, name="张老三", marital_status="未婚")),
            county_event(person(number, birth, version=3, name="张老三")),
            county_event(person(marker, date(1975, 3, 3))),
        )

        async def marker_applied() -> bool:
            return await stored(app, marker) is not None

        await eventually(marker_applied, timeout=WAIT)
        row = await stored(app, number)
        assert (row.source_version, row.marital_status) == (3, "已婚")
        assert app.state.runtime.cipher.decrypt(row.name) == "张三"
        # Four events applied, but only the first of this person and the marker changed data.
        assert app.state.runtime.consumer.applied == 4
        assert await count(app, outbox) == 2

        await publish(
            app, COUNTY_TOPIC, county_event(person(number, birth, version=4, name="张叁"))
        )

        async def newer_applied() -> bool:
            row = await stored(app, number)
            return row is not None and row.source_version == 4

        await eventually(newer_applied, timeout=WAIT)
        row = await stored(app, number)
        assert app.state.runtime.cipher.decrypt(row.name) == "张叁"
        assert row.marital_status is None
        assert await count(app, outbox) == 3


async def test_bad_events_are_dead_lettered_and_the_next_one_applies(backend, verifier, read_topic):
    good = id_number(date(1992, 8, 15), 101)
    checked = id_number(date(2003, 1, 20), 202)
    bad_checksum = checked[:-1] + ("1" if checked[-1] != "1" else "2")
    app = await make_app(backend, verifier)
    async with running(app):
        await publish(
            app,
            COUNTY_TOPIC,
            county_event(person(good, date(1992, 8, 15), sex="未知")),
            county_event(person(bad_checksum, date(2003, 1, 20))),
            county_event(person(checked, date(2003, 1, 21))),
            county_event(person(good, date(1992, 8, 15))),
        )

        async def good_applied() -> bool:
            return await stored(app, good) is not None

        await eventually(good_applied, timeout=WAIT)
        assert await count(app, PopulationRecord) == 1

        dead = await read_topic(COUNTY_TOPIC + ".dlq", 3)
        reasons = [dict(m.headers)["dlq_reason"].decode() for m in dead]
        assert reasons == [
            "schema: sex: violates enum",
            "rejected: id_number: invalid checksum",
            "rejected: birth_date: does not match id_number",
        ]
        for message in dead:
            headers = dict(message.headers)
            assert headers["dlq_original_topic"] == COUNTY_TOPIC.encode()
            assert headers["dlq_consumer"] == b"data-exchange"
        for number in (good, checked, bad_checksum):
            assert all(number not in reason for reason in reasons)
        assert app.state.runtime.consumer.dead_lettered == 3


async def test_issued_licenses_are_indexed_once_and_listed_by_holder(
    backend, signer, verifier, read_topic
):
    holder = id_number(date(1990, 5, 17), 123)
    app = await make_app(backend, verifier)
    async with running(app):
        holder_index = app.state.runtime.cipher.blind_index(holder)
        other_index = app.state.runtime.cipher.blind_index(id_number(date(1985, 11, 2), 246))
        birth, business, theirs, broken = (str(uuid.uuid4()) for _ in range(4))
        first = license_event(birth, holder_index)
        await publish(
            app,
            LICENSE_TOPIC,
            first,
            first,  # redelivered
            license_event(birth, holder_index),  # the same license in a new event
            license_event(broken, holder_index, issued_at="yesterday"),
            license_event(
                business,
                holder_index,
                license_type="CN-BIZ-LICENSE",
                issued_at="2026-03-02T09:00:00+08:00",
                valid_until="2046-03-02T00:00:00Z",
            ),
            license_event(theirs, other_index),
            key="licenses",
        )

        async def last_applied() -> bool:
            async with app.state.runtime.sessions() as s:
                return await s.get(LicenseIndexEntry, theirs) is not None

        await eventually(last_applied, timeout=WAIT)
        assert await count(app, LicenseIndexEntry) == 3
        # The repeated event is skipped by the inbox, the rejected one leaves no row.
        assert await count(app, inbox) == 4
        assert app.state.runtime.consumer.applied == 4
        dead = await read_topic(LICENSE_TOPIC + ".dlq", 1)
        assert [dict(m.headers)["dlq_reason"] for m in dead] == [
            b"schema: issued_at: violates format"
        ]

        async with client(app, signer, audience="data-exchange", principal_type="staff") as staff:
            listed = await staff.get(
                "/api/v1/data-exchange/licenses", params={"holder_index": holder_index}
            )
            assert listed.status_code == 200
            assert [
                (i["license_id"], i["license_type"], i["issued_at"], i["valid_until"])
                for i in listed.json()["items"]
            ] == [
                (business, "CN-BIZ-LICENSE", "2026-03-02T01:00:00Z", "2046-03-02T00:00:00Z"),
                (birth, "CN-BIRTH-CERT", "2026-03-01T08:30:00Z", None),
            ]
            page = (
                await staff.get(
                    "/api/v1/data-exchange/licenses",
                    params={"holder_index": holder_index, "limit": 1},
                )
            ).json()
            rest = (
                await staff.get(
                    "/api/v1/data-exchange/licenses",
                    params={"holder_index": holder_index, "cursor": page["next_cursor"]},
                )
            ).json()
            assert [i["license_id"] for i in page["items"] + rest["items"]] == [business, birth]
            bad = await staff.get("/api/v1/data-exchange/licenses", params={"holder_index": holder})
            assert (bad.status_code, bad.json()["code"]) == (422, "validation_failed")

        async with client(
            app, signer, audience="data-exchange", principal_type="citizen", subject=holder
        ) as citizen:
            own = await citizen.get(
                "/api/v1/data-exchange/licenses", params={"holder_index": holder_index}
            )
            assert [i["license_id"] for i in own.json()["items"]] == [business, birth]
            other = await citizen.get(
                "/api/v1/data-exchange/licenses", params={"holder_index": other_index}
            )
            assert (other.status_code, other.json()["code"]) == (403, "forbidden")
