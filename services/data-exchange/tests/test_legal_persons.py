"""The legal-person library (法人库) on both backends: county records from Kafka and
the batch endpoint (validated, versioned, dead-lettered when bad), the company-opening
read of the caller's enterprise (granted fields only) and its 核验, all logged."""

from __future__ import annotations

import itertools
import json
from datetime import date

from sqlalchemy import func, select
from stdnum.cn import ric, uscc

from data_exchange.grants import LEGAL_PERSON_FIELDS
from data_exchange.models import LegalPersonRecord, access_log, outbox
from yiwang_platform.bus import OutgoingMessage
from yiwang_platform.events import CloudEvent
from yiwang_platform.testing import client, eventually, running

from .factories import county_client, make_app

TOPIC = "data-exchange.inbound.legal_person.v1"
EVENT_TYPE = "gov.county.legal_person.record.v1"
RECORDS = "/api/v1/data-exchange/legal-persons/records"
SELF = "/api/v1/data-exchange/legal-persons/self"
VERIFY = "/api/v1/data-exchange/legal-persons/verify"
WAIT = 60.0


def credit_code(area: str, organisation: str) -> str:
    body = f"91{area}{organisation}"
    return body + uscc.calc_check_digit(body + "0")


def id_number(birth: date, sequence: int, area: str = "330106") -> str:
    body = f"{area}{birth:%Y%m%d}{sequence:03d}"
    return body + ric.calc_check_digit(body + "0")


def broken(code: str) -> str:
    return code[:-1] + ("1" if code[-1] != "1" else "2")


ACME = credit_code("330106", "MA2H7Q3K1")
BETA = credit_code("330105", "MA2J8R4L2")
GAMMA = credit_code("330102", "MA2K9T5N3")
ZHAO = id_number(date(1991, 4, 12), 131)
QIAN = id_number(date(1990, 9, 30), 246)


def enterprise(code: str, version: int = 1, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "source": "330106-scjg",
        "source_version": version,
        "uscc": code,
        "name": "杭州示例科技有限公司",
        "entity_type": "有限责任公司",
        "legal_representative_name": "赵一鸣",
        "legal_representative_id_number": ZHAO,
        "registered_address": "浙江省杭州市西湖区文三路100号",
        "business_scope": "技术开发、技术服务",
        "established_on": "2020-05-18",
        "status": "存续",
    }
    data.update(changes)
    return data


async def stored(app, code: str) -> LegalPersonRecord | None:
    async with app.state.runtime.sessions() as s:
        return await s.scalar(select(LegalPersonRecord).where(LegalPersonRecord.uscc == code))


async def counts(app) -> tuple[int, int]:
    """Legal-person rows and record events in the outbox."""
    async with app.state.runtime.sessions() as s:
        rows = await s.scalar(select(func.count()).select_from(LegalPersonRecord))
        events = await s.scalar(
            select(func.count())
            .select_from(outbox)
            .where(outbox.c.topic == "data-exchange.record.v1")
        )
    return rows, events


def county_event(data: dict[str, object]) -> CloudEvent:
    return CloudEvent(type=EVENT_TYPE, source="/test", data=data, subject="county-330106")


async def test_kafka_records_are_versioned_and_bad_ones_dead_lettered(
    backend, verifier, read_topic
):
    app = await make_app(backend, verifier)
    async with running(app):
        events = [
            county_event(enterprise(ACME, version=2)),
            county_event(enterprise(ACME, version=2, name="重复版本")),  # same version
            county_event(enterprise(ACME, version=1, name="旧版本")),  # older
            county_event(enterprise(broken(BETA))),
            county_event(enterprise(BETA, legal_representative_id_number=broken(QIAN))),
            county_event(enterprise(BETA, status="营业中")),
            county_event(enterprise(BETA, established_on="2999-01-01")),
            county_event(enterprise(GAMMA, legal_representative_id_number=QIAN)),  # marker
        ]
        await app.state.runtime.bus.publish(
            [OutgoingMessage(TOPIC, b"county-330106", e.value(), e.headers()) for e in events]
        )

        async def marker_applied() -> bool:
            return await stored(app, GAMMA) is not None

        await eventually(marker_applied, timeout=WAIT)
        acme = await stored(app, ACME)
        assert (acme.name, acme.source_version) == ("杭州示例科技有限公司", 2)
        cipher = app.state.runtime.cipher
        assert cipher.decrypt(acme.representative_name) == "赵一鸣"
        assert acme.representative_id_number != ZHAO
        assert cipher.decrypt(acme.representative_id_number) == ZHAO
        assert acme.representative_index == cipher.blind_index(ZHAO)
        assert await stored(app, BETA) is None
        assert await counts(app) == (2, 2)
        assert app.state.runtime.consumer.applied == 4

        dead = await read_topic(TOPIC + ".dlq", 4)
        # Schema failures are dead-lettered before a batch's rejected events: compare as sets.
        reasons = sorted(dict(m.headers)["dlq_reason"].decode() for m in dead)
        assert reasons == sorted(
            [
                "rejected: uscc: invalid checksum",
                "rejected: legal_representative_id_number: invalid checksum",
                "schema: status: violates enum",
                "rejected: established_on: in the future",
            ]
        )
        assert all(dict(m.headers)["dlq_original_topic"] == TOPIC.encode() for m in dead)
        assert app.state.runtime.consumer.dead_lettered == 4

        messages = await read_topic("data-exchange.record.v1", 2)
        libraries = [json.loads(m.value)["library"] for m in messages]
        assert libraries == ["legal_person", "legal_person"]
        assert all(ZHAO.encode() not in m.value and QIAN.encode() not in m.value for m in messages)


async def test_batch_answers_each_record_and_never_half_writes(backend, signer, verifier):
    app = await make_app(backend, verifier)
    async with (
        running(app),
        county_client(app, signer, "county-330106") as county,
    ):
        first = await county.post(
            RECORDS,
            json={
                "records": [
                    enterprise(ACME),
                    enterprise(BETA, legal_representative_id_number=QIAN),
                    enterprise(ACME),
                    enterprise(broken(GAMMA)),
                    # A valid credit code but a bad representative: nothing of GAMMA is written.
                    enterprise(GAMMA, legal_representative_id_number=broken(QIAN)),
                    {k: v for k, v in enterprise(GAMMA).items() if k != "name"},
                    {**enterprise(GAMMA), "phone": "0571-88888888"},
                    enterprise(GAMMA, established_on="2020-02-30"),
                ]
            },
        )
        assert first.status_code == 200, first.text
        body = first.json()
        assert [(r["index"], r["status"], r.get("reason")) for r in body["results"]] == [
            (0, "created", None),
            (1, "created", None),
            (2, "unchanged", None),
            (3, "rejected", "uscc: invalid checksum"),
            (4, "rejected", "legal_representative_id_number: invalid checksum"),
            (5, "rejected", "name: Field required"),
            (6, "rejected", "phone: Extra inputs are not permitted"),
            (
                7,
                "rejected",
                "established_on: Input should be a valid date or datetime, day "
                "value is outside expected range",
            ),
        ]
        assert body["summary"] == {"accepted": 2, "unchanged": 1, "stale": 0, "rejected": 5}
        assert await stored(app, GAMMA) is None
        assert await counts(app) == (2, 2)
        for secret in (ZHAO, QIAN, broken(QIAN)):
            assert secret not in first.text

        acme_id = body["results"][0]["record_id"]
        second = await county.post(
            RECORDS,
            json={
                "records": [
                    enterprise(ACME, version=3, name="杭州示例数智科技有限公司", status="在业"),
                    enterprise(ACME, version=2, name="杭州旧名有限公司"),
                    enterprise(BETA, legal_representative_id_number=QIAN),
                    enterprise(ACME, version=3, name="杭州旧名有限公司"),
                ]
            },
        )
        assert [(r["status"], r["record_id"]) for r in second.json()["results"]] == [
            ("updated", acme_id),
            ("stale", acme_id),
            ("unchanged", body["results"][1]["record_id"]),
            ("unchanged", acme_id),
        ]
        assert second.json()["summary"] == {
            "accepted": 1,
            "unchanged": 2,
            "stale": 1,
            "rejected": 0,
        }
        acme = await stored(app, ACME)
        assert (acme.name, acme.status, acme.source_version) == (
            "杭州示例数智科技有限公司",
            "在业",
            3,
        )
        assert await counts(app) == (2, 3)

        # Idempotency-Key replays the answer; bad bodies are problems, not 500s.
        headers = {"Idempotency-Key": "lp-0001"}
        batch = {"records": [enterprise(GAMMA, legal_representative_id_number=QIAN)]}
        once = await county.post(RECORDS, json=batch, headers=headers)
        again = await county.post(RECORDS, json=batch, headers=headers)
        assert once.json() == again.json()
        assert once.json()["summary"]["accepted"] == 1
        for bad in ({"records": []}, {"records": "all"}, {"rows": []}, [1, 2]):
            answer = await county.post(RECORDS, json=bad)
            assert answer.status_code == 422, bad
            assert answer.headers["content-type"] == "application/problem+json"
        not_json = await county.post(
            RECORDS, content=b"{", headers={"content-type": "application/json"}
        )
        assert not_json.status_code == 422
        assert await counts(app) == (3, 4)

        async with client(
            app, signer, audience="data-exchange", principal_type="citizen", subject=ZHAO
        ) as c:
            refused = await c.post(RECORDS, json={"records": [enterprise(ACME, version=9)]})
            assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
        assert await counts(app) == (3, 4)


async def _load(app, signer) -> None:
    async with county_client(app, signer, "c-1") as county:
        done = await county.post(
            RECORDS,
            json={
                "records": [
                    enterprise(ACME),
                    enterprise(
                        BETA,
                        name="杭州另一家贸易有限公司",
                        legal_representative_name="钱二",
                        legal_representative_id_number=QIAN,
                    ),
                ]
            },
        )
        assert done.json()["summary"]["accepted"] == 2


def _enterprise_client(app, signer, code: str, fields, bind="org", principal_type="enterprise"):
    claims = {
        "scn": "company-opening",
        "grant": {"legal_person": list(fields)},
        "bind": bind,
        "acr": "L2",
    }
    return client(
        app, signer, audience="data-exchange", principal_type=principal_type, subject=code, **claims
    )


FULL = {
    "name": "杭州示例科技有限公司",
    "uscc": ACME,
    "entity_type": "有限责任公司",
    "legal_representative": "赵一鸣",
    "registered_address": "浙江省杭州市西湖区文三路100号",
    "business_scope": "技术开发、技术服务",
    "established_on": "2020-05-18",
    "status": "存续",
}


async def test_own_enterprise_read_answers_only_granted_fields(backend, signer, verifier):
    app = await make_app(backend, verifier)
    async with running(app):
        await _load(app, signer)
        # Every subset of the readable fields (plus junk and the verify-only field) answers
        # exactly the granted readable fields.
        readable = list(LEGAL_PERSON_FIELDS)
        every = [c for n in (1, 2, 3) for c in itertools.combinations(readable, n)]
        subsets = [*every[::7], tuple(readable)]
        for subset in subsets:
            grant = [*subset, "legal_representative_id_number", "photo", "id_number"]
            async with _enterprise_client(app, signer, ACME, grant) as acme:
                own = await acme.get(SELF, params={"uscc": BETA})
                assert own.status_code == 200, own.text
                assert own.json() == {f: FULL[f] for f in readable if f in subset}
                assert ZHAO not in own.text
        async with _enterprise_client(app, signer, BETA, ["name", "legal_representative"]) as beta:
            assert (await beta.get(SELF)).json() == {
                "name": "杭州另一家贸易有限公司",
                "legal_representative": "钱二",
            }

        refusals = [
            (_enterprise_client(app, signer, ACME, ["legal_representative_id_number"]), "no_grant"),
            (_enterprise_client(app, signer, ACME, ["id_number", "photo"]), "no_grant"),
            (_enterprise_client(app, signer, ACME, ["name"], bind="self"), "binding_mismatch"),
            (
                _enterprise_client(app, signer, ZHAO, ["name"], principal_type="citizen"),
                "binding_mismatch",
            ),
            (_enterprise_client(app, signer, broken(ACME), ["name"]), "binding_missing"),
        ]
        for made, code in refusals:
            async with made as caller:
                refused = await caller.get(SELF)
                assert (refused.status_code, refused.json()["code"]) == (403, code)
                assert refused.headers["content-type"] == "application/problem+json"
        async with _enterprise_client(app, signer, GAMMA, ["name"]) as nobody:
            assert (await nobody.get(SELF)).status_code == 404

        # The read of the representative's name is in their own access log.
        async with client(
            app, signer, audience="data-exchange", principal_type="citizen", subject=QIAN
        ) as qian:
            mine = (await qian.get("/api/v1/data-exchange/access-log/mine")).json()["items"]
        reads = [i for i in mine if i["outcome"] == "read"]
        assert [(i["scenario"], i["fields"]) for i in reads] == [
            ("company-opening", ["legal_person.legal_representative"])
        ]
        cipher = app.state.runtime.cipher
        async with app.state.runtime.sessions() as s:
            logged = [
                json.loads(e)
                for e in (await s.scalars(select(access_log.c.entry).order_by("seq"))).all()
            ]
        beta_reads = [
            e
            for e in logged
            if e["subject_index"] == cipher.blind_index(BETA) and e["outcome"] == "read"
        ]
        assert [e["fields"] for e in beta_reads] == [
            ["legal_person.legal_representative", "legal_person.name"]
        ]
        assert [
            e["outcome"] for e in logged if e["subject_index"] == cipher.blind_index(GAMMA)
        ] == ["not_found"]
        assert all(BETA not in json.dumps(e) and QIAN not in json.dumps(e) for e in logged)


async def test_legal_person_verify_answers_true_or_false_per_field(backend, signer, verifier):
    app = await make_app(backend, verifier)
    async with running(app):
        await _load(app, signer)
        grant = ["name", "legal_representative", "legal_representative_id_number", "status"]
        async with _enterprise_client(app, signer, ACME, grant) as acme:
            answer = await acme.post(
                VERIFY,
                json={
                    "claims": {
                        "name": "杭州示例科技有限公司 ",
                        "legal_representative": "钱二",
                        "legal_representative_id_number": ZHAO.lower(),
                        "status": "注销",
                    }
                },
            )
            assert (answer.status_code, answer.json()) == (
                200,
                {
                    "name": True,
                    "legal_representative": False,
                    "legal_representative_id_number": True,
                    "status": False,
                },
            )
            assert "赵一鸣" not in answer.text
            other = await acme.post(
                VERIFY,
                json={"claims": {"legal_representative_id_number": QIAN, "name": "别家"}},
            )
            assert other.json() == {"legal_representative_id_number": False, "name": False}
            junk = await acme.post(VERIFY, json={"claims": {"legal_representative_id_number": "x"}})
            assert junk.json() == {"legal_representative_id_number": False}
            refused = await acme.post(VERIFY, json={"claims": {"name": "x", "uscc": ACME}})
            assert (refused.status_code, refused.json()["code"]) == (403, "field_not_granted")
            assert refused.json()["fields"] == ["uscc"]
            assert (await acme.post(VERIFY, json={"claims": {}})).status_code == 422
        async with _enterprise_client(app, signer, GAMMA, grant) as nobody:
            assert (
                await nobody.post(VERIFY, json={"claims": {"name": "杭州示例科技有限公司"}})
            ).json() == {"name": False}
        # The verification of the representative's ID number is in their access log.
        async with client(
            app, signer, audience="data-exchange", principal_type="citizen", subject=ZHAO
        ) as zhao:
            mine = (await zhao.get("/api/v1/data-exchange/access-log/mine")).json()["items"]
        # Newest first: the junk claim, the claim of another number, the first call.
        assert [i["fields"] for i in mine if i["outcome"] == "verified"] == [
            ["legal_person.legal_representative_id_number"],
            ["legal_person.legal_representative_id_number"],
            ["legal_person.legal_representative", "legal_person.legal_representative_id_number"],
        ]
