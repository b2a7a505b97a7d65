"""Wallet, showing and verifying, revocation and the usage log over the API, on both
backends."""

from __future__ import annotations

import base64
import io
import json
import uuid
from datetime import UTC, datetime, timedelta

import segno
from sqlalchemy import select, update

from license import presentation
from license.licenses import disclosure_content_of, opened
from license.models import License, LicenseUsage
from yiwang_platform.pagination import encode_cursor
from yiwang_platform.testing import client


def as_holder(app, signer, subject: str, kind: str = "citizen", **claims):
    return client(app, signer, audience="license", principal_type=kind, subject=subject, **claims)


def flip(text: str, i: int) -> str:
    return text[:i] + ("A" if text[i] != "A" else "B") + text[i + 1 :]


async def test_wallet_is_the_callers_own_and_other_licenses_are_not_found(
    app, signer, samples, issue_license
):
    async with client(app, signer, audience="license", subject="staff-0571") as staff:
        mine = [
            (await issue_license(staff, samples.citizen, samples.birth_fields))["license_id"]
            for _ in range(3)
        ]
        theirs = (await issue_license(staff, samples.other_citizen, samples.birth_fields))[
            "license_id"
        ]
        assert (await staff.get(f"/api/v1/license/licenses/{mine[0]}")).status_code == 200
        no_wallet = await staff.get("/api/v1/license/wallet")
        assert (no_wallet.status_code, no_wallet.json()["code"]) == (403, "forbidden")

    async with as_holder(app, signer, samples.citizen) as holder:
        first = (await holder.get("/api/v1/license/wallet", params={"limit": 2})).json()
        rest = (
            await holder.get(
                "/api/v1/license/wallet", params={"limit": 2, "cursor": first["next_cursor"]}
            )
        ).json()
        assert rest["next_cursor"] is None
        assert sorted(i["license_id"] for i in first["items"] + rest["items"]) == sorted(mine)

        # Another citizen's license, a guessed id and garbage all look the same.
        for other in (theirs, str(uuid.uuid4()), "not-an-id"):
            for response in (
                await holder.get(f"/api/v1/license/licenses/{other}"),
                await holder.post(
                    f"/api/v1/license/licenses/{other}/presentations", json={"fields": ["sex"]}
                ),
                await holder.get(f"/api/v1/license/licenses/{other}/usage"),
            ):
                assert (response.status_code, response.json()["code"]) == (
                    404,
                    "license_not_found",
                )
        for cursor in ("bm9wZQ", encode_cursor("2026-01-01T00:00:00|x")):
            bad = await holder.get("/api/v1/license/wallet", params={"cursor": cursor})
            assert (bad.status_code, bad.json()["code"]) == (400, "invalid_cursor")
        for cursor in ("bm9wZQ", encode_cursor("9" * 30)):
            bad = await holder.get(
                f"/api/v1/license/licenses/{mine[0]}/usage", params={"cursor": cursor}
            )
            assert (bad.status_code, bad.json()["code"]) == (400, "invalid_cursor")

    async with as_holder(app, signer, samples.enterprise, "enterprise") as enterprise:
        assert (await enterprise.get("/api/v1/license/wallet")).json()["items"] == []
    async with client(app, signer, audience="license", principal_type="county") as county:
        assert (await county.get("/api/v1/license/wallet")).status_code == 403


async def test_holder_reads_are_logged_without_identifiers(app, signer, samples, issue_license):
    async with client(app, signer, audience="license", subject="staff-0571") as staff:
        license_id = (await issue_license(staff, samples.citizen, samples.birth_fields))[
            "license_id"
        ]
    # Intake checks a referenced license on the applicant's behalf (免提交).
    async with as_holder(app, signer, samples.citizen, scn="birth-registration") as intake:
        read = await intake.get(f"/api/v1/license/licenses/{license_id}")
        assert read.status_code == 200
        assert (read.json()["status"], read.json()["holder_kind"]) == ("valid", "citizen")
    async with as_holder(app, signer, samples.citizen) as holder:
        await holder.get(f"/api/v1/license/licenses/{license_id}")
        log = (await holder.get(f"/api/v1/license/licenses/{license_id}/usage")).json()
        assert [(e["action"], e["reader_type"], e["scenario"]) for e in log["items"]] == [
            ("read", "citizen", None),
            ("read", "citizen", "birth-registration"),
        ]
    async with app.state.runtime.sessions() as s:
        rows = (await s.scalars(select(LicenseUsage))).all()
        assert len(rows) == 2
        assert {r.reader for r in rows} == {app.state.runtime.cipher.blind_index(samples.citizen)}
        assert all(samples.citizen not in json.dumps(r.reader + r.license_id) for r in rows)


async def test_show_chosen_fields_and_verify_online(app, signer, samples, issue_license):
    async with client(app, signer, audience="license", subject="staff-0571") as staff:
        license_id = (await issue_license(staff, samples.citizen, samples.birth_fields))[
            "license_id"
        ]
    async with as_holder(app, signer, samples.citizen) as holder:
        shown = await holder.post(
            f"/api/v1/license/licenses/{license_id}/presentations",
            json={"fields": ["newborn_name", "birth_time"], "ttl_seconds": 120},
        )
        assert shown.status_code == 201, shown.text
        body = shown.json()
        assert body["fields"] == ["birth_time", "newborn_name"]
        assert body["license_id"] == license_id
        issued_at = datetime.fromisoformat(body["issued_at"])
        assert datetime.fromisoformat(body["expires_at"]) - issued_at == timedelta(seconds=120)
        text = body["presentation"]
        raw = base64.urlsafe_b64decode(text + "==").decode()
        for hidden in ("李梅", "王强", "浙江省杭州市西湖区", "Q330106202600123"):
            assert hidden not in raw
        assert samples.citizen not in raw
        # The QR code holds exactly the presentation.
        png = base64.b64decode(body["qr_code"]["base64"])
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        expected = io.BytesIO()
        segno.make_qr(text, error="l").save(expected, kind="png", scale=4, border=4)
        assert png == expected.getvalue()

    # A verifier (here a window clerk) scans it.
    async with client(app, signer, audience="license", subject="staff-0002") as verifier:
        checked = await verifier.post(
            "/api/v1/license/presentations/verify", json={"presentation": text}
        )
        assert checked.status_code == 200
        assert checked.json() == {
            "valid": True,
            "reason": None,
            "license_id": license_id,
            "license_type": "birth-medical-certificate",
            "fields": {"newborn_name": "王小明", "birth_time": "2026-02-27 10:05"},
            "issuer": "杭州市电子证照中心",
            "expires_at": body["expires_at"],
        }
        for i in (0, len(text) // 2, len(text) - 1):
            altered = await verifier.post(
                "/api/v1/license/presentations/verify", json={"presentation": flip(text, i)}
            )
            assert altered.status_code == 200
            assert altered.json()["valid"] is False
            assert altered.json()["fields"] == {} and altered.json()["license_type"] is None

        # One made ten minutes ago has expired.
        async with app.state.runtime.sessions() as s:
            license = await s.get(License, license_id)
        fields = opened(license, app.state.runtime.cipher).fields
        stale = presentation.create(
            app.state.runtime.collaborators,
            credential=disclosure_content_of(license, fields),
            credential_key_id=license.seal_key_id,
            credential_signature=license.disclosure_signature,
            fields=fields,
            salts=license.field_salts,
            names=["sex"],
            ttl_seconds=300,
            now=datetime.now(UTC) - timedelta(minutes=10),
        )
        expired = await verifier.post(
            "/api/v1/license/presentations/verify", json={"presentation": stale.text}
        )
        assert expired.json()["valid"] is False and expired.json()["reason"] == "expired"

    # Verified offline with the published keys, after the service is gone.
    async with client(app, signer, audience="license") as anyone:
        keys = (await anyone.get("/api/v1/license/seal-keys")).json()
    checked_offline = presentation.verify_offline(text, keys, now=datetime.now(UTC))
    assert checked_offline.valid
    assert checked_offline.fields == {"newborn_name": "王小明", "birth_time": "2026-02-27 10:05"}


async def test_revocation_stops_presentations_and_is_announced(
    app, signer, samples, read_topic, issue_license
):
    async with client(app, signer, audience="license", subject="staff-0571") as staff:
        license_id = (await issue_license(staff, samples.citizen, samples.birth_fields))[
            "license_id"
        ]
    async with as_holder(app, signer, samples.citizen) as holder:
        text = (
            await holder.post(
                f"/api/v1/license/licenses/{license_id}/presentations",
                json={"fields": ["sex"], "ttl_seconds": 600},
            )
        ).json()["presentation"]
        refused = await holder.post(
            f"/api/v1/license/licenses/{license_id}/revocation", json={"reason": "自行注销"}
        )
        assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")

    async with client(app, signer, audience="license", subject="staff-0571") as staff:
        verify = "/api/v1/license/presentations/verify"
        assert (await staff.post(verify, json={"presentation": text})).json()["valid"] is True
        missing_reason = await staff.post(
            f"/api/v1/license/licenses/{license_id}/revocation", json={}
        )
        assert (missing_reason.status_code, missing_reason.json()["code"]) == (
            422,
            "validation_failed",
        )
        unknown = await staff.post(
            f"/api/v1/license/licenses/{uuid.uuid4()}/revocation", json={"reason": "错误签发"}
        )
        assert unknown.status_code == 404
        headers = {"Idempotency-Key": "revoke-1"}
        revoked = await staff.post(
            f"/api/v1/license/licenses/{license_id}/revocation",
            json={"reason": "信息有误，予以注销"},
            headers=headers,
        )
        assert revoked.status_code == 200
        assert revoked.json()["status"] == "revoked" and revoked.json()["revoked_at"]
        again = await staff.post(
            f"/api/v1/license/licenses/{license_id}/revocation",
            json={"reason": "信息有误，予以注销"},
            headers=headers,
        )
        assert again.json() == revoked.json()  # the same request, replayed
        twice = await staff.post(
            f"/api/v1/license/licenses/{license_id}/revocation", json={"reason": "再次注销"}
        )
        assert (twice.status_code, twice.json()["code"]) == (409, "license_already_revoked")

        after = (await staff.post(verify, json={"presentation": text})).json()
        assert (after["valid"], after["reason"], after["fields"]) == (False, "revoked", {})

    # Offline the seal still checks out: only the online check knows of revocations.
    assert presentation.verify_offline(
        text, app.state.runtime.collaborators.jwks(), now=datetime.now(UTC)
    ).valid

    async with as_holder(app, signer, samples.citizen) as holder:
        assert (await holder.get(f"/api/v1/license/licenses/{license_id}")).json()["status"] == (
            "revoked"
        )
        again_shown = await holder.post(
            f"/api/v1/license/licenses/{license_id}/presentations", json={"fields": ["sex"]}
        )
        assert (again_shown.status_code, again_shown.json()["code"]) == (409, "license_revoked")

    messages = await read_topic("license.license.v1", 2)
    assert [dict(m.headers)["ce_type"] for m in messages] == [
        b"gov.license.license.issued.v1",
        b"gov.license.license.revoked.v1",
    ]
    event = json.loads(messages[1].value)
    assert messages[1].key == license_id.encode()
    assert event["license_id"] == license_id
    assert event["reason"] == "信息有误，予以注销"
    assert event["holder_index"] == app.state.runtime.cipher.blind_index(samples.citizen)
    assert samples.citizen.encode() not in messages[1].value


async def test_bad_presentation_requests_are_problems(app, signer, samples, issue_license):
    async with client(app, signer, audience="license", subject="staff-0571") as staff:
        license_id = (await issue_license(staff, samples.citizen, samples.birth_fields))[
            "license_id"
        ]
        staff_shows = await staff.post(
            f"/api/v1/license/licenses/{license_id}/presentations", json={"fields": ["sex"]}
        )
        assert (staff_shows.status_code, staff_shows.json()["code"]) == (403, "forbidden")
    path = f"/api/v1/license/licenses/{license_id}/presentations"
    async with as_holder(app, signer, samples.citizen) as holder:
        for body in (
            {"fields": ["sex"], "ttl_seconds": 59},
            {"fields": ["sex"], "ttl_seconds": 601},
            {"fields": []},
            {"fields": "sex"},
            {"fields": ["sex"], "extra": 1},
        ):
            response = await holder.post(path, json=body)
            assert (response.status_code, response.json()["code"]) == (422, "validation_failed")
            assert response.headers["content-type"] == "application/problem+json"
        unknown = await holder.post(path, json={"fields": ["sex", "blood_type"]})
        assert (unknown.status_code, unknown.json()["code"]) == (422, "unknown_fields")
        not_json = await holder.post(
            path, content=b"{", headers={"content-type": "application/json"}
        )
        assert not_json.status_code == 422

        verify = "/api/v1/license/presentations/verify"
        garbage = await holder.post(verify, json={"presentation": "!!!"})
        assert garbage.json() == {
            "valid": False,
            "reason": "malformed",
            "license_id": None,
            "license_type": None,
            "fields": {},
            "issuer": None,
            "expires_at": None,
        }
        too_long = await holder.post(verify, json={"presentation": "A" * 8001})
        assert (too_long.status_code, too_long.json()["code"]) == (422, "validation_failed")

        # A lapsed license and one sealed before selective disclosure cannot be shown.
        async with app.state.runtime.sessions() as s, s.begin():
            await s.execute(
                update(License)
                .where(License.license_id == license_id)
                .values(valid_until=datetime.now(UTC) - timedelta(days=1))
            )
        lapsed = await holder.post(path, json={"fields": ["sex"]})
        assert (lapsed.status_code, lapsed.json()["code"]) == (409, "license_expired")
        assert (await holder.get(f"/api/v1/license/licenses/{license_id}")).json()["status"] == (
            "expired"
        )
        async with app.state.runtime.sessions() as s, s.begin():
            await s.execute(
                update(License)
                .where(License.license_id == license_id)
                .values(valid_until=None, field_salts=None, disclosure_signature=None)
            )
        old = await holder.post(path, json={"fields": ["sex"]})
        assert (old.status_code, old.json()["code"]) == (409, "license_not_presentable")


async def test_registered_types_are_checked_on_the_staff_route_too(
    app, signer, samples, issue_license
):
    async with client(app, signer, audience="license", subject="staff-0571") as staff:
        types_ = (await staff.get("/api/v1/license/license-types")).json()
        assert [t["code"] for t in types_] == [
            "birth-medical-certificate",
            "household-register",
            "social-security-card",
            "business-license",
        ]
        missing = dict(samples.ssc_fields)
        del missing["card_number"]
        refused = await staff.post(
            "/api/v1/license/licenses",
            json={
                "license_type": "social-security-card",
                "holder_kind": "citizen",
                "holder_id": samples.citizen,
                "holder_name": "王小明",
                "fields": missing,
            },
        )
        assert (refused.status_code, refused.json()["code"]) == (422, "license_fields_invalid")
        assert "card_number" in refused.json()["detail"]
        card = await issue_license(
            staff, samples.citizen, samples.ssc_fields, license_type="social-security-card"
        )
        issued_at = datetime.fromisoformat(card["issued_at"])
        valid_until = datetime.fromisoformat(card["valid_until"])
        assert valid_until == issued_at.replace(year=issued_at.year + 10)
