"""Licenses issued from approved sub-cases, on both backends: one license in the right
wallet, redelivery issues nothing twice, refusals and approvals without a license
change nothing, and what cannot be issued goes to the dead-letter topic with why."""

from __future__ import annotations

import json
import uuid

from sqlalchemy import func, select

from license.issuance import license_id_for_subcase
from license.models import License, inbox, outbox
from yiwang_platform.testing import client, eventually


async def counts(app) -> tuple[int, int, int]:
    """(licenses, outbox rows, inbox rows)."""
    async with app.state.runtime.sessions() as s:
        return (
            await s.scalar(select(func.count()).select_from(License)),
            await s.scalar(select(func.count()).select_from(outbox)),
            await s.scalar(select(func.count()).select_from(inbox)),
        )


async def handled(app, applied: int, dead: int = 0) -> None:
    consumer = app.state.runtime.consumer

    async def done() -> bool:
        return consumer.applied >= applied and consumer.dead_lettered >= dead

    await eventually(done, timeout=30)
    assert (consumer.applied, consumer.dead_lettered) == (applied, dead)


async def test_an_approved_subcase_puts_one_license_in_the_holders_wallet(
    app, signer, publish, decision, samples, read_topic
):
    data = decision()
    await publish(data)
    await handled(app, 1)
    assert await counts(app) == (1, 1, 1)

    license_id = license_id_for_subcase(data["subcase_id"])
    async with client(
        app, signer, audience="license", principal_type="citizen", subject=samples.citizen
    ) as holder:
        wallet = (await holder.get("/api/v1/license/wallet")).json()
        assert [i["license_id"] for i in wallet["items"]] == [license_id]
        item = wallet["items"][0]
        assert item["license_type"] == "birth-medical-certificate"
        assert item["license_type_name"] == "出生医学证明"
        assert item["fields"] == samples.birth_fields
        assert item["holder_name"] == "王小明"
        assert item["issuer"] == samples.issuer
        assert item["valid_until"] is None  # long-term
        assert item["status"] == "valid"
        assert (item["case_id"], item["subcase_id"]) == (data["case_id"], data["subcase_id"])
        assert samples.citizen not in json.dumps(wallet)
        verified = await holder.post(f"/api/v1/license/licenses/{license_id}/verify")
        assert verified.json() == {"valid": True}
    async with client(
        app, signer, audience="license", principal_type="citizen", subject=samples.other_citizen
    ) as other:
        assert (await other.get("/api/v1/license/wallet")).json()["items"] == []

    issued = await read_topic("license.license.v1", 1)
    assert len(issued) == 1
    assert issued[0].key == license_id.encode()
    assert dict(issued[0].headers)["ce_type"] == b"gov.license.license.issued.v1"
    body = json.loads(issued[0].value)
    assert body["license_id"] == license_id
    assert (body["case_id"], body["subcase_id"]) == (data["case_id"], data["subcase_id"])
    assert body["issuer"] == samples.issuer
    assert samples.citizen.encode() not in issued[0].value


async def test_a_redelivered_or_repeated_decision_issues_nothing_twice(
    app, publish, decision, samples, read_topic
):
    data = decision()
    event = await publish(data)
    await publish(event=event)  # the same event again: the inbox skips it
    # Intake sent the decision again under a new event id: the derived id finds the license.
    await publish(data)
    later = decision(license_type="social-security-card", fields=samples.ssc_fields)
    await publish(later)
    await handled(app, 3)
    # Two licenses, two issued events; inbox rows for the three distinct events.
    assert await counts(app) == (2, 2, 3)
    assert len(await read_topic("license.license.v1", 2)) == 2
    async with app.state.runtime.sessions() as s:
        card = await s.get(License, license_id_for_subcase(later["subcase_id"]))
        assert card is not None and card.valid_until is not None
        # Ten years, to the day.
        assert card.valid_until.year - card.issued_at.year == 10
        assert card.valid_until.date().replace(year=card.issued_at.year) == card.issued_at.date()


async def test_refusals_and_approvals_without_a_license_change_nothing(app, publish, decision):
    await publish(decision(decision="refused", reason="材料不符合要求"))
    await publish(decision(with_license=False))
    await handled(app, 2)
    # Recorded in the inbox, nothing issued.
    assert await counts(app) == (0, 0, 2)


async def test_what_cannot_be_issued_is_dead_lettered_with_the_reason(
    app, publish, decision, samples, read_topic
):
    missing = dict(samples.birth_fields)
    del missing["mother_name"]
    del missing["birth_place"]
    extra = {**samples.birth_fields, "blood_type": "O"}
    mismatched = decision()
    mismatched["license"]["holder_index"] = "0" * 64
    bad_cipher = decision()
    bad_cipher["license"]["fields_encrypted"] = "bm90IGVuY3J5cHRlZA=="
    refused = [
        decision(fields=missing),
        decision(fields=extra),
        decision(license_type="marriage-certificate"),
        decision(license_type="business-license", fields=samples.business_fields),
        mismatched,
        bad_cipher,
        decision(holder=samples.citizen[:-1] + ("1" if samples.citizen[-1] != "1" else "2")),
    ]
    for data in refused:
        await publish(data)
    good = decision()
    await publish(good)
    await handled(app, 1, dead=len(refused))
    assert await counts(app) == (1, 1, 1)

    dead = await read_topic(samples.case_topic + ".dlq", len(refused))
    reasons = [dict(m.headers)["dlq_reason"].decode() for m in dead]
    assert reasons[:6] == [
        "rejected: birth-medical-certificate: missing required fields: birth_place, mother_name",
        "rejected: birth-medical-certificate: unknown fields: blood_type",
        "rejected: unknown license type 'marriage-certificate'",
        "rejected: business-license is for enterprise holders, not citizen",
        "rejected: holder_index does not match the encrypted holder id",
        "rejected: license.fields_encrypted cannot be decrypted with the PII key",
    ]
    assert reasons[6].startswith("rejected: holder id is not valid")
    assert {dict(m.headers)["dlq_consumer"] for m in dead} == {b"license"}
    assert [json.loads(m.value) for m in dead] == refused
    # The reasons never carry an identifier.
    assert not any(samples.citizen[:17] in r for r in reasons)


async def test_an_enterprise_gets_its_business_license(app, signer, publish, decision, samples):
    data = decision(
        license_type="business-license",
        holder_kind="enterprise",
        holder=samples.enterprise.lower(),
        holder_name="杭州示例科技有限公司",
        fields=samples.business_fields,
    )
    # intake indexes the compact upper-case form; the blind index normalises case anyway.
    await publish(data)
    await handled(app, 1)
    async with client(
        app, signer, audience="license", principal_type="enterprise", subject=samples.enterprise
    ) as enterprise:
        items = (await enterprise.get("/api/v1/license/wallet")).json()["items"]
        assert [(i["license_type"], i["holder_kind"]) for i in items] == [
            ("business-license", "enterprise")
        ]
        assert items[0]["holder_id"] == f"{samples.enterprise[:6]}********{samples.enterprise[-1]}"
        assert items[0]["license_id"] == license_id_for_subcase(data["subcase_id"])
    assert uuid.UUID(items[0]["license_id"]).version == 5
