"""Events supervision consumes, on both backends: submitted cases and gateway accesses;
redelivery applies once, and what cannot be applied goes to the dead-letter topic."""

from __future__ import annotations

import json
import uuid

from sqlalchemy import func, select

from supervision.models import CaseWatch
from yiwang_platform.testing import client, eventually

CASE_TOPIC = "intake.case.v1"
CASE_SUBMITTED = "gov.intake.case.submitted.v1"
ACCESS_TOPIC = "gateway.access.v1"
ACCESS_RECORDED = "gov.gateway.access.recorded.v1"


async def _watched(app) -> list[str]:
    async with app.state.runtime.sessions() as s:
        return list((await s.scalars(select(CaseWatch.case_id).order_by(CaseWatch.case_id))).all())


async def test_a_redelivered_case_is_watched_once(app, publish, new_case):
    first, later = new_case(), new_case()
    # One key for both, so the later event is consumed after the duplicate.
    event = await publish(CASE_TOPIC, CASE_SUBMITTED, "same-key", first)
    await publish(CASE_TOPIC, CASE_SUBMITTED, "same-key", event=event)
    await publish(CASE_TOPIC, CASE_SUBMITTED, "same-key", later)

    async def both() -> bool:
        return len(await _watched(app)) == 2

    await eventually(both, timeout=30)
    assert await _watched(app) == sorted([first["case_id"], later["case_id"]])
    assert app.state.runtime.consumer.applied == 2


async def test_unusable_case_events_are_dead_lettered_and_the_next_applied(
    app, publish, read_topic, new_case
):
    missing_field = new_case()
    del missing_field["promised_days"]
    bad_time = new_case(submitted_at="yesterday")
    good = new_case()
    for data in (missing_field, bad_time, good):
        await publish(CASE_TOPIC, CASE_SUBMITTED, "same-key", data)

    async def applied() -> bool:
        return await _watched(app) == [good["case_id"]]

    await eventually(applied, timeout=30)
    dead = await read_topic(CASE_TOPIC + ".dlq", 2)
    assert [dict(m.headers)["dlq_reason"] for m in dead] == [
        b"schema: (root): 'promised_days' is a required property",
        b"schema: submitted_at: violates format",
    ]
    assert [json.loads(m.value) for m in dead] == [missing_field, bad_time]
    assert {dict(m.headers)["dlq_consumer"] for m in dead} == {b"supervision"}


def _access(service: str, status: int) -> dict[str, object]:
    return {
        "access_id": str(uuid.uuid4()),
        "principal_type": "citizen",
        "service": service,
        "method": "GET",
        "status": status,
        "duration_ms": 12,
        "at": "2026-11-23T09:00:00Z",
    }


async def _metrics_once_applied(app, signer, applied: int) -> dict:
    """The metrics a supervisor reads once the consumer applied ``applied`` events."""

    async def counted() -> bool:
        return app.state.runtime.consumer.applied == applied

    await eventually(counted, timeout=30)
    async with client(app, signer, audience="supervision", principal_type="supervisor") as api:
        return (await api.get("/api/v1/supervision/metrics")).json()


async def test_gateway_accesses_are_counted_by_service_and_status_class(app, signer, publish):
    async with client(app, signer, audience="supervision", principal_type="supervisor") as api:
        assert (await api.get("/api/v1/supervision/metrics")).json() == {"counters": {}}

        first = await publish(ACCESS_TOPIC, ACCESS_RECORDED, "k", _access("intake", 201))
        await publish(ACCESS_TOPIC, ACCESS_RECORDED, "k", event=first)
        await publish(ACCESS_TOPIC, ACCESS_RECORDED, "k", _access("intake", 200))
        await publish(ACCESS_TOPIC, ACCESS_RECORDED, "k", _access("matters", 404))
        await publish(ACCESS_TOPIC, ACCESS_RECORDED, "k", _access("intake", 503))

        assert await _metrics_once_applied(app, signer, 4) == {
            "counters": {
                "gateway_accesses_by_service_status": {
                    "intake:2xx": 2,
                    "intake:5xx": 1,
                    "matters:4xx": 1,
                }
            }
        }
    async with app.state.runtime.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(CaseWatch)) == 0


async def test_issued_licenses_and_exchange_records_are_counted(app, signer, publish):
    def license_issued(license_type: str) -> dict[str, object]:
        return {
            "license_id": str(uuid.uuid4()),
            "license_type": license_type,
            "holder_kind": "citizen",
            "holder_index": "ab" * 32,
            "issuer": "市卫生健康委员会",
            "issued_at": "2026-11-23T09:00:00Z",
            "valid_until": None,
        }

    def record_upserted(library: str) -> dict[str, object]:
        return {
            "record_id": str(uuid.uuid4()),
            "library": library,
            "source": "county-01",
            "source_version": 1,
            "upserted_at": "2026-11-23T09:00:00Z",
        }

    licenses = ("CN-BIRTH-CERT", "CN-BIRTH-CERT", "CN-BIZ-LICENSE")
    for license_type in licenses:
        data = license_issued(license_type)
        await publish("license.license.v1", "gov.license.license.issued.v1", "k", data)
    for library in ("population", "legal_person", "population", "population"):
        data = record_upserted(library)
        await publish("data-exchange.record.v1", "gov.data-exchange.record.upserted.v1", "k", data)

    assert await _metrics_once_applied(app, signer, 7) == {
        "counters": {
            "exchange_records_by_library": {"legal_person": 1, "population": 3},
            "licenses_issued_by_type": {"CN-BIRTH-CERT": 2, "CN-BIZ-LICENSE": 1},
        }
    }


async def test_data_library_accesses_are_counted_by_scenario(app, signer, publish):
    def accessed(scenario: str | None) -> dict[str, object]:
        return {
            "seq": 1,
            "hash": "ab" * 32,
            "at": "2026-11-23T09:00:00Z",
            "accessor_type": "staff",
            "accessor": "staff-7",
            "key_id": None,
            "scenario": scenario,
            "subject_index": "cd" * 32,
            "fields": ["population.name"],
            "outcome": "read",
            "trace_id": None,
        }

    for scenario in ("window-case-lookup", "birth-registration", "window-case-lookup", None):
        data = accessed(scenario)
        await publish("data-exchange.access.v1", "gov.data-exchange.access.recorded.v1", "k", data)

    assert await _metrics_once_applied(app, signer, 4) == {
        "counters": {
            "data_accesses_by_scenario": {
                "-": 1,
                "birth-registration": 1,
                "window-case-lookup": 2,
            }
        }
    }
