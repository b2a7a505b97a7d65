"""County records pass the platform's one identifier check on both entry points, on
both backends: a person born in the future (or a legal representative who is) goes to
the dead-letter topic with the reason from Kafka, and is rejected on its own in a
batch; an entry of a batch that is not an object is answered on its own too, and the
good records beside it land."""

from __future__ import annotations

import functools
from datetime import date, timedelta

from sqlalchemy import func, select
from stdnum.cn import uscc

from data_exchange.models import LegalPersonRecord, PopulationRecord
from yiwang_platform.bus import OutgoingMessage
from yiwang_platform.events import CloudEvent
from yiwang_platform.testing import eventually, running
from yiwang_platform.workdays import china_today

from .factories import county_client, make_app
from .factories import county_person as person
from .factories import id_number as resident_id

POPULATION = "/api/v1/data-exchange/population/records"
LEGAL_PERSONS = "/api/v1/data-exchange/legal-persons/records"
POPULATION_TOPIC = "data-exchange.inbound.population.v1"
LEGAL_PERSON_TOPIC = "data-exchange.inbound.legal_person.v1"
WAIT = 60.0
FUTURE = china_today() + timedelta(days=400)

id_number = functools.partial(resident_id, area="330106")


def credit_code(organisation: str) -> str:
    body = f"91330106{organisation}"
    return body + uscc.calc_check_digit(body + "0")


def enterprise(code: str, representative: str) -> dict[str, object]:
    return {
        "source": "330106-scjg",
        "source_version": 1,
        "uscc": code,
        "name": "杭州示例科技有限公司",
        "entity_type": "有限责任公司",
        "legal_representative_name": "赵一鸣",
        "legal_representative_id_number": representative,
        "registered_address": "浙江省杭州市西湖区文三路100号",
        "business_scope": "技术开发",
        "established_on": "2020-05-18",
        "status": "存续",
    }


GOOD = id_number(date(1992, 8, 15), 101)
UNBORN = id_number(FUTURE, 202)
ACME = credit_code("MA2H7Q3K1")
BETA = credit_code("MA2J8R4L2")


async def count(app, table) -> int:
    async with app.state.runtime.sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(table)) or 0)


async def test_records_born_in_the_future_are_dead_lettered_with_the_reason(
    backend, verifier, read_topic
):
    app = await make_app(backend, verifier)

    def event(kind: str, data: dict[str, object]) -> OutgoingMessage:
        ce = CloudEvent(type=f"gov.county.{kind}.record.v1", source="/test", data=data)
        topic = POPULATION_TOPIC if kind == "population" else LEGAL_PERSON_TOPIC
        return OutgoingMessage(topic, b"county-330106", ce.value(), ce.headers())

    async with running(app):
        await app.state.runtime.bus.publish(
            [
                event("population", person(UNBORN, FUTURE)),
                event("population", person(GOOD, date(1992, 8, 15))),
                event("legal_person", enterprise(BETA, UNBORN)),
                event("legal_person", enterprise(ACME, GOOD)),
            ]
        )

        async def applied() -> bool:
            return await count(app, PopulationRecord) + await count(app, LegalPersonRecord) == 2

        await eventually(applied, timeout=WAIT)
        for topic, reason in (
            (POPULATION_TOPIC, "rejected: id_number: birth date in the future"),
            (
                LEGAL_PERSON_TOPIC,
                "rejected: legal_representative_id_number: birth date in the future",
            ),
        ):
            [dead] = await read_topic(topic + ".dlq", 1)
            assert dict(dead.headers)["dlq_reason"].decode() == reason


async def test_each_batch_entry_is_answered_on_its_own(backend, signer, verifier):
    app = await make_app(backend, verifier)
    not_an_object = "(record): not a JSON object"
    async with (
        running(app),
        county_client(app, signer, "county-330106") as county,
    ):
        people = await county.post(
            POPULATION,
            json={
                "records": [
                    "just a string",
                    None,
                    person(GOOD, date(1992, 8, 15)),
                    person(UNBORN, FUTURE),
                    42,
                    [person(GOOD, date(1992, 8, 15))],
                ]
            },
        )
        assert people.status_code == 200, people.text
        results = people.json()["results"]
        assert [(r["index"], r["status"], r.get("reason")) for r in results] == [
            (0, "rejected", not_an_object),
            (1, "rejected", not_an_object),
            (2, "created", None),
            (3, "rejected", "id_number: birth date in the future"),
            (4, "rejected", not_an_object),
            (5, "rejected", not_an_object),
        ]
        assert people.json()["summary"] == {
            "accepted": 1,
            "unchanged": 0,
            "stale": 0,
            "rejected": 5,
        }
        assert UNBORN not in people.text

        companies = await county.post(
            LEGAL_PERSONS,
            json={"records": [None, "just a string", enterprise(ACME, GOOD)]},
        )
        assert companies.status_code == 200, companies.text
        assert [(r["status"], r.get("reason")) for r in companies.json()["results"]] == [
            ("rejected", not_an_object),
            ("rejected", not_an_object),
            ("created", None),
        ]
    assert await count(app, PopulationRecord) == 1
    assert await count(app, LegalPersonRecord) == 1
