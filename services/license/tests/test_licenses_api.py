"""The license API on both backends: issue and seal, masked reads, holder-scoped
listing, verification, the published event, and bad input."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import func, select, update

from license.models import License, outbox
from license.seal import canonical_json
from yiwang_platform.testing import client, running

SEAL_ISSUER = "杭州市卫生健康委员会"


@pytest.fixture
def birth_certificate(samples) -> dict:
    return {
        "license_type": "CN-BIRTH-CERT",
        "holder_kind": "citizen",
        "holder_id": samples.citizen,
        "holder_name": "王小明",
        "fields": {"出生地点": "杭州市西湖区", "出生时间": "2026-02-27 10:05"},
    }


def masked(value: str) -> str:
    return f"{value[:6]}********{value[-1]}"


async def test_issue_read_verify_and_publish(
    make_app, signer, read_topic, samples, birth_certificate
):
    app = await make_app(seal_issuer=SEAL_ISSUER)
    async with running(app), client(app, signer, audience="license", subject="staff-0571") as staff:
        issued = await staff.post(
            "/api/v1/license/licenses",
            json={**birth_certificate, "valid_until": "2046-02-27T00:00:00+08:00"},
        )
        assert issued.status_code == 201
        body = issued.json()
        cipher = app.state.runtime.cipher
        keyring = app.state.runtime.collaborators
        assert body["holder_id"] == masked(samples.citizen)
        assert body["holder_index"] == cipher.blind_index(samples.citizen)
        assert body["issuer"] == SEAL_ISSUER
        assert body["fields"] == birth_certificate["fields"]
        assert body["valid_until"] == "2046-02-26T16:00:00Z"
        assert body["seal_key_id"] == keyring.key_id
        assert samples.citizen not in issued.text

        license_id = body["license_id"]
        fetched = await staff.get(f"/api/v1/license/licenses/{license_id}")
        assert fetched.status_code == 200
        assert fetched.json() == body
        verified = await staff.post(f"/api/v1/license/licenses/{license_id}/verify")
        assert (verified.status_code, verified.json()) == (200, {"valid": True})

        messages = await read_topic("license.license.v1", 1)
        assert len(messages) == 1
        message = messages[0]
        headers = dict(message.headers)
        assert message.key == license_id.encode()
        assert headers["ce_type"] == b"gov.license.license.issued.v1"
        assert headers["ce_source"] == b"/yiwang/license"
        assert json.loads(message.value) == {
            "license_id": license_id,
            "license_type": "CN-BIRTH-CERT",
            "holder_kind": "citizen",
            "holder_index": cipher.blind_index(samples.citizen),
            "issuer": SEAL_ISSUER,
            "issued_at": body["issued_at"],
            "valid_until": "2046-02-26T16:00:00Z",
            "case_id": None,
            "subcase_id": None,
        }
        assert samples.citizen.encode() not in message.value

        async with app.state.runtime.sessions() as s:
            stored = await s.scalar(select(License))
            assert stored.holder_id_encrypted != samples.citizen
            assert cipher.decrypt(stored.holder_id_encrypted) == samples.citizen
            assert stored.issued_by == "staff-0571"
            payloads = (await s.scalars(select(outbox.c.payload))).all()
            assert len(payloads) == 1 and samples.citizen not in payloads[0]


async def test_the_seal_verifies_offline_with_the_published_key(
    make_app, signer, birth_certificate
):
    app = await make_app(seal_issuer=SEAL_ISSUER)
    async with running(app), client(app, signer, audience="license") as staff:
        body = (await staff.post("/api/v1/license/licenses", json=birth_certificate)).json()
        keys = (await staff.get("/api/v1/license/seal-keys")).json()
        assert keys["issuer"] == SEAL_ISSUER
        assert [(k["kid"], k["kty"], k["crv"], k["status"]) for k in keys["keys"]] == [
            (body["seal_key_id"], "OKP", "Ed25519", "active")
        ]
        x = keys["keys"][0]["x"]
        public_key = Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(x + "=="))
        sealed = {
            k: body[k]
            for k in (
                "license_id",
                "license_type",
                "holder_index",
                "holder_name",
                "fields",
                "issued_at",
                "valid_until",
                "issuer",
            )
        }
        # Raises InvalidSignature when the canonical form or the key does not match.
        public_key.verify(base64.b64decode(body["signature"]), canonical_json(sealed))


async def test_a_tampered_license_fails_verification(make_app, signer, birth_certificate):
    app = await make_app(seal_issuer=SEAL_ISSUER)
    async with running(app), client(app, signer, audience="license") as staff:
        license_id = (await staff.post("/api/v1/license/licenses", json=birth_certificate)).json()[
            "license_id"
        ]
        # Someone holding the PII key re-encrypts changed content: the seal still tells.
        cipher = app.state.runtime.cipher
        async with app.state.runtime.sessions() as s, s.begin():
            await s.execute(
                update(License)
                .where(License.license_id == license_id)
                .values(
                    fields_encrypted=cipher.encrypt(
                        json.dumps({"出生地点": "杭州市上城区", "出生时间": "2026-02-27 10:05"})
                    )
                )
            )
        tampered = await staff.post(f"/api/v1/license/licenses/{license_id}/verify")
        assert tampered.json() == {"valid": False}

        async with app.state.runtime.sessions() as s, s.begin():
            await s.execute(
                update(License)
                .where(License.license_id == license_id)
                .values(
                    fields_encrypted=cipher.encrypt(json.dumps(birth_certificate["fields"])),
                    holder_name_encrypted=cipher.encrypt("王小名"),
                )
            )
        renamed = await staff.post(f"/api/v1/license/licenses/{license_id}/verify")
        assert renamed.json() == {"valid": False}


async def test_citizens_see_only_their_own_licenses(make_app, signer, samples, birth_certificate):
    app = await make_app(seal_issuer=SEAL_ISSUER)
    async with running(app):
        async with client(app, signer, audience="license") as staff:
            mine = [
                (await staff.post("/api/v1/license/licenses", json=birth_certificate)).json()[
                    "license_id"
                ]
                for _ in range(3)
            ]
            theirs = (
                await staff.post(
                    "/api/v1/license/licenses",
                    json={
                        **birth_certificate,
                        "holder_id": samples.other_citizen,
                        "holder_name": "李四",
                    },
                )
            ).json()["license_id"]
            everything = (await staff.get("/api/v1/license/licenses")).json()
            assert sorted(i["license_id"] for i in everything["items"]) == sorted([*mine, theirs])

        # The token subject of a citizen is their ID number, lower-case x or not.
        async with client(
            app,
            signer,
            audience="license",
            principal_type="citizen",
            subject=samples.citizen.lower(),
        ) as citizen:
            first = (await citizen.get("/api/v1/license/licenses", params={"limit": 2})).json()
            assert len(first["items"]) == 2 and first["next_cursor"]
            rest = (
                await citizen.get(
                    "/api/v1/license/licenses",
                    params={"limit": 2, "cursor": first["next_cursor"]},
                )
            ).json()
            assert (len(rest["items"]), rest["next_cursor"]) == (1, None)
            listed = [i["license_id"] for i in first["items"] + rest["items"]]
            assert sorted(listed) == sorted(mine)
            assert all(
                i["holder_id"] == masked(samples.citizen) for i in first["items"] + rest["items"]
            )

            other = await citizen.get(f"/api/v1/license/licenses/{theirs}")
            assert (other.status_code, other.json()["code"]) == (404, "license_not_found")
            other_verify = await citizen.post(f"/api/v1/license/licenses/{theirs}/verify")
            assert other_verify.status_code == 404
            own = await citizen.get(f"/api/v1/license/licenses/{mine[0]}")
            assert own.status_code == 200

            refused = await citizen.post("/api/v1/license/licenses", json=birth_certificate)
            assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")

        async with client(app, signer, audience="license", principal_type="county") as county:
            listing = await county.get("/api/v1/license/licenses")
            assert (listing.status_code, listing.json()["code"]) == (403, "forbidden")


async def test_enterprise_license_with_a_credit_code(make_app, signer, samples):
    app = await make_app(seal_issuer=SEAL_ISSUER)
    async with running(app):
        async with client(app, signer, audience="license") as staff:
            issued = await staff.post(
                "/api/v1/license/licenses",
                json={
                    "license_type": "CN-BIZ-LICENSE",
                    "holder_kind": "enterprise",
                    "holder_id": samples.enterprise.lower(),
                    "holder_name": "杭州示例科技有限公司",
                    "fields": {"法定代表人": "王小明", "注册资本": "100万元"},
                },
            )
            assert issued.status_code == 201
            assert issued.json()["holder_id"] == masked(samples.enterprise)
        async with client(
            app, signer, audience="license", principal_type="enterprise", subject=samples.enterprise
        ) as enterprise:
            listed = (await enterprise.get("/api/v1/license/licenses")).json()
            assert [i["license_id"] for i in listed["items"]] == [issued.json()["license_id"]]


async def test_bad_input_is_a_problem_and_never_echoes_the_identifier(
    make_app, signer, samples, birth_certificate
):
    app = await make_app(seal_issuer=SEAL_ISSUER)
    bad_checksum = samples.citizen[:-1] + ("1" if samples.citizen[-1] != "1" else "2")
    async with running(app), client(app, signer, audience="license") as staff:
        invalid = await staff.post(
            "/api/v1/license/licenses", json={**birth_certificate, "holder_id": bad_checksum}
        )
        assert invalid.status_code == 422
        assert invalid.headers["content-type"] == "application/problem+json"
        assert invalid.json()["code"] == "holder_id_invalid"
        assert bad_checksum not in invalid.text

        wrong_kind = await staff.post(
            "/api/v1/license/licenses",
            json={**birth_certificate, "holder_kind": "enterprise"},
        )
        assert (wrong_kind.status_code, wrong_kind.json()["code"]) == (422, "holder_id_invalid")
        assert samples.citizen not in wrong_kind.text

        too_many = await staff.post(
            "/api/v1/license/licenses",
            json={**birth_certificate, "fields": {f"项目{i}": "值" for i in range(31)}},
        )
        assert (too_many.status_code, too_many.json()["code"]) == (422, "validation_failed")
        unknown = await staff.post(
            "/api/v1/license/licenses", json={**birth_certificate, "seal": "forged"}
        )
        assert (unknown.status_code, unknown.json()["code"]) == (422, "validation_failed")
        naive = await staff.post(
            "/api/v1/license/licenses",
            json={**birth_certificate, "valid_until": "2046-02-27T00:00:00"},
        )
        assert (naive.status_code, naive.json()["code"]) == (422, "validation_failed")
        past = await staff.post(
            "/api/v1/license/licenses",
            json={**birth_certificate, "valid_until": "2020-01-01T00:00:00Z"},
        )
        assert (past.status_code, past.json()["code"]) == (422, "valid_until_not_in_future")
        cursor = await staff.get("/api/v1/license/licenses", params={"cursor": "bm9wZQ"})
        assert (cursor.status_code, cursor.json()["code"]) == (400, "invalid_cursor")
        missing = await staff.get(
            "/api/v1/license/licenses/00000000-0000-4000-8000-000000000000",
            headers={"Accept-Language": "en"},
        )
        assert (missing.status_code, missing.json()["title"]) == (404, "License not found")

        async with app.state.runtime.sessions() as s:
            assert await s.scalar(select(func.count()).select_from(License)) == 0
            assert await s.scalar(select(func.count()).select_from(outbox)) == 0


async def test_idempotency_key_replays_and_rejects_a_different_body(
    make_app, signer, birth_certificate
):
    app = await make_app(seal_issuer=SEAL_ISSUER)
    async with running(app), client(app, signer, audience="license") as staff:
        headers = {"Idempotency-Key": "issue-1"}
        first = await staff.post(
            "/api/v1/license/licenses", json=birth_certificate, headers=headers
        )
        again = await staff.post(
            "/api/v1/license/licenses", json=birth_certificate, headers=headers
        )
        other = await staff.post(
            "/api/v1/license/licenses",
            json={**birth_certificate, "holder_name": "王大明"},
            headers=headers,
        )
        assert first.status_code == again.status_code == 201
        assert again.json() == first.json()
        assert (other.status_code, other.json()["code"]) == (409, "idempotency_key_reused")
        async with app.state.runtime.sessions() as s:
            assert await s.scalar(select(func.count()).select_from(License)) == 1
            assert await s.scalar(select(func.count()).select_from(outbox)) == 1


async def test_requests_without_a_valid_internal_token_are_refused(make_app, signer):
    app = await make_app(seal_issuer=SEAL_ISSUER)
    async with running(app):
        async with client(app, None, audience="license") as anonymous:
            assert (await anonymous.get("/api/v1/license/licenses")).status_code == 401
            assert (await anonymous.get("/api/v1/license/seal-keys")).status_code == 401
        async with client(app, signer, audience="data-exchange") as wrong_audience:
            assert (await wrong_audience.get("/api/v1/license/licenses")).status_code == 401
        async with client(app, signer, audience="license") as api:
            ready = await api.get("/readyz")
            assert ready.status_code == 200
            assert ready.json()["checks"] == {"database": "ok"}


async def test_a_license_id_the_database_cannot_hold_is_a_client_error(app, signer):
    # PostgreSQL refuses a NUL byte in text; reads and verification answer a problem, not a 500.
    license_path = "/api/v1/license/licenses/abc%00def"
    async with client(app, signer, audience="license", subject="staff-0571") as staff:
        answers = [
            await staff.get(license_path),
            await staff.post(f"{license_path}/verify"),
            await staff.get(f"{license_path}/usage"),
        ]
    for answer in answers:
        assert answer.status_code in (400, 404, 422), answer.text
        assert answer.headers["content-type"] == "application/problem+json"
