"""Sign-up and sign-in, access tokens and their failure modes, refresh rotation with
reuse detection, sign-out, staff personal keys and machine client assertions."""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from datetime import timedelta

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.admin import add_staff
from gateway.identity.accounts import hash_password, personal_key_digest
from gateway.models import MachineClient, StaffAccount
from gateway.tests.conftest import gateway_client, parts
from yiwang_platform.testing import running

PHONE = "13912345678"
TOKEN_URL = "http://gw/api/v1/auth/token"


@pytest.fixture
async def gateway(service_app, gateway_app, tmp_path):
    service = await service_app("matters", seed_catalogue=False)
    front = await gateway_app(
        {"matters": service},
        sms_outbox=str(tmp_path / "sms.jsonl"),
        token_endpoint_url=TOKEN_URL,
        password_attempts=3,
    )
    async with running(service), running(front):
        yield front


def api(app) -> httpx.AsyncClient:
    return gateway_client(app)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def sign_up(
    client: httpx.AsyncClient, app, phone: str = PHONE, password: str | None = None
) -> dict:
    assert (await client.post("/api/v1/auth/sms-codes", json={"phone": phone})).status_code == 202
    code = parts(app).sms.last_code_for(phone)
    body = {"phone": phone, "code": code, **({"password": password} if password else {})}
    created = await client.post("/api/v1/auth/citizens", json=body)
    assert created.status_code == 201, created.text
    return created.json()


async def refresh(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post(
        "/api/v1/auth/token", data={"grant_type": "refresh_token", "refresh_token": token}
    )


async def matters(client: httpx.AsyncClient, access_token: str) -> int:
    """The status of a service call with this access token."""
    return (await client.get("/api/v1/matters/matters", headers=bearer(access_token))).status_code


async def test_citizen_signs_up_by_sms_and_calls_a_service(gateway):
    async with api(gateway) as client:
        tokens = await sign_up(client, gateway, password="a long passphrase")
        assert (
            tokens["acr"] == "L1"
            and tokens["token_type"] == "Bearer"
            and tokens["expires_in"] == 900
        )
        kid = jwt.get_unverified_header(tokens["access_token"])["kid"]
        assert kid in [
            k["kid"] for k in (await client.get("/.well-known/jwks.json")).json()["keys"]
        ]
        # The access token carries no plaintext identifier.
        payload = jwt.decode(tokens["access_token"], options={"verify_signature": False})
        assert PHONE not in json.dumps(payload)

        listed = await client.get("/api/v1/matters/matters", headers=bearer(tokens["access_token"]))
        assert listed.status_code == 200

        by_password = await client.post(
            "/api/v1/auth/citizens/sessions", json={"phone": PHONE, "password": "a long passphrase"}
        )
        assert by_password.status_code == 200
        again = await client.post("/api/v1/auth/citizens", json={"phone": PHONE, "code": "000000"})
        assert again.status_code == 401  # the code is checked before anything is revealed


async def test_one_time_codes_are_single_use_and_passwords_lock_after_failures(gateway):
    async with api(gateway) as client:
        await sign_up(client, gateway, password="a long passphrase")
        code = parts(gateway).sms.last_code_for(PHONE)
        reused = await client.post(
            "/api/v1/auth/citizens/sessions", json={"phone": PHONE, "code": code}
        )
        assert (reused.status_code, reused.json()["code"]) == (401, "code_invalid")
        for _ in range(3):
            wrong = await client.post(
                "/api/v1/auth/citizens/sessions", json={"phone": PHONE, "password": "nope"}
            )
            assert wrong.status_code == 401
        locked = await client.post(
            "/api/v1/auth/citizens/sessions", json={"phone": PHONE, "password": "a long passphrase"}
        )
        assert (locked.status_code, locked.json()["code"]) == (429, "account_locked")
        assert locked.headers["retry-after"] == "900"


async def test_forged_none_unknown_kid_wrong_audience_and_expired_tokens_are_refused(gateway):
    async with api(gateway) as client:
        token = (await sign_up(client, gateway))["access_token"]
        header, payload, signature = token.split(".")
        forged_payload = json.loads(base64.urlsafe_b64decode(payload + "=="))
        forged_payload["ptype"] = "operator"
        forged = ".".join(
            [
                header,
                base64.urlsafe_b64encode(json.dumps(forged_payload).encode()).decode().rstrip("="),
                signature,
            ]
        )
        none_alg = jwt.encode(forged_payload, key=None, algorithm="none")
        other_key = jwt.encode(
            forged_payload,
            Ed25519PrivateKey.generate(),
            algorithm="EdDSA",
            headers={"kid": "not-a-known-kid"},
        )
        signing = parts(gateway).keyring.signing_key()
        wrong_audience = jwt.encode(
            {**forged_payload, "aud": "another-api"},
            signing.private,
            algorithm="EdDSA",
            headers={"kid": signing.kid},
        )
        expired = jwt.encode(
            {**forged_payload, "exp": int(time.time()) - 60},
            signing.private,
            algorithm="EdDSA",
            headers={"kid": signing.kid},
        )
        for bad in (forged, none_alg, other_key, wrong_audience, expired, "garbage"):
            response = await client.get("/api/v1/matters/matters", headers=bearer(bad))
            assert response.status_code == 401, bad
            assert response.json()["code"] == "unauthenticated"
        assert (
            await client.get("/api/v1/matters/matters", headers=bearer(token))
        ).status_code == 200


async def test_rotation_keeps_old_tokens_valid_for_the_grace_then_refuses_them(gateway):
    async with api(gateway) as client:
        old_token = (await sign_up(client, gateway))["access_token"]
        keyring = parts(gateway).keyring
        old_kid = keyring.signing_key().kid
        new_kid = await keyring.rotate()
        assert new_kid != old_kid
        kids = [k["kid"] for k in (await client.get("/.well-known/jwks.json")).json()["keys"]]
        assert set(kids) == {old_kid, new_kid}
        assert (
            await client.get("/api/v1/matters/matters", headers=bearer(old_token))
        ).status_code == 200

        keyring.grace = timedelta(0)  # the grace has passed
        refused = await client.get("/api/v1/matters/matters", headers=bearer(old_token))
        assert (refused.status_code, refused.json()["detail"]) == (401, "signing key retired")
        assert [k["kid"] for k in (await client.get("/.well-known/jwks.json")).json()["keys"]] == [
            new_kid
        ]


async def test_refresh_rotates_and_reuse_revokes_the_whole_family(gateway):
    async with api(gateway) as client:
        first = await sign_up(client, gateway)
        second = (await refresh(client, first["refresh_token"])).json()
        assert second["refresh_token"] != first["refresh_token"]
        assert await matters(client, second["access_token"]) == 200

        reuse = await refresh(client, first["refresh_token"])
        assert (reuse.status_code, reuse.json()["code"]) == (401, "refresh_token_reused")
        newest = await refresh(client, second["refresh_token"])
        assert newest.status_code == 401
        assert await matters(client, second["access_token"]) == 401


async def test_sign_out_revokes_the_session_at_once(gateway):
    async with api(gateway) as client:
        tokens = await sign_up(client, gateway)
        assert (
            await client.delete(
                "/api/v1/auth/sessions/current", headers=bearer(tokens["access_token"])
            )
        ).status_code == 204
        assert await matters(client, tokens["access_token"]) == 401
        refreshed = await refresh(client, tokens["refresh_token"])
        assert refreshed.status_code == 401


async def test_staff_sign_in_needs_password_and_personal_key(gateway):
    key = "personal-key-" + uuid.uuid4().hex
    async with gateway.state.runtime.sessions() as session, session.begin():
        session.add(
            StaffAccount(
                staff_id="w-0001",
                password_hash=hash_password("window staff password"),
                personal_key_hash=personal_key_digest(key),
                department="市政务服务中心",
                hall="一楼综合窗口",
                roles=["window"],
                active=True,
            )
        )
    async with api(gateway) as client:
        ok = await client.post(
            "/api/v1/auth/staff/sessions",
            json={"staff_id": "w-0001", "password": "window staff password", "personal_key": key},
        )
        assert ok.status_code == 200
        principal = parts(gateway).tokens.verify(ok.json()["access_token"])
        assert (principal.subject, principal.principal_type, principal.roles) == (
            "w-0001",
            "staff",
            ("window",),
        )
        assert principal.key_id == personal_key_digest(key)[:12]
        wrong_key = await client.post(
            "/api/v1/auth/staff/sessions",
            json={
                "staff_id": "w-0001",
                "password": "window staff password",
                "personal_key": "x" * 20,
            },
        )
        assert wrong_key.status_code == 401


async def test_machine_client_credentials_with_a_signed_assertion(gateway):
    key = Ed25519PrivateKey.generate()
    public = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(key.public_key()))
    async with gateway.state.runtime.sessions() as session, session.begin():
        session.add(
            MachineClient(
                client_id="partner-hangzhou",
                client_type="partner",
                public_jwk=public,
                scopes=["cases:exchange"],
                active=True,
            )
        )

    def assertion(signing_key=key, audience=TOKEN_URL, jti=None) -> str:
        now = int(time.time())
        claims = {
            "iss": "partner-hangzhou",
            "sub": "partner-hangzhou",
            "aud": audience,
            "iat": now,
            "exp": now + 60,
            "jti": jti or uuid.uuid4().hex,
        }
        return jwt.encode(claims, signing_key, algorithm="EdDSA")

    def form(a: str) -> dict[str, str]:
        return {
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": a,
        }

    async with api(gateway) as client:
        signed = assertion()
        granted = await client.post("/api/v1/auth/token", data=form(signed))
        assert granted.status_code == 200, granted.text
        assert granted.json()["refresh_token"] is None
        principal = parts(gateway).tokens.verify(granted.json()["access_token"])
        assert (principal.principal_type, principal.scopes) == ("partner", ("cases:exchange",))
        for bad in (
            signed,
            assertion(signing_key=Ed25519PrivateKey.generate()),
            assertion(audience="http://elsewhere"),
        ):
            refused = await client.post("/api/v1/auth/token", data=form(bad))
            assert (refused.status_code, refused.json()["code"]) == (401, "invalid_client")


async def test_expired_access_token_is_refused(gateway_app, tmp_path):
    front = await gateway_app(sms_outbox=str(tmp_path / "sms.jsonl"), access_token_ttl_seconds=1)
    async with running(front), api(front) as client:
        token = (await sign_up(client, front))["access_token"]
        assert (
            await client.get("/api/v1/gateway/nothing", headers=bearer(token))
        ).status_code != 401
        await asyncio.sleep(7)  # one second of life plus the five seconds of clock leeway
        expired = await client.get("/api/v1/gateway/nothing", headers=bearer(token))
        assert (expired.status_code, expired.json()["detail"]) == (401, "token expired")


async def test_operator_command_provisions_staff_who_then_sign_in(gateway):
    settings = gateway.state.runtime.settings
    key = await add_staff(
        settings,
        "r-0042",
        department="市市场监督管理局",
        roles=["reviewer"],
        password="a reviewer password",
    )
    again = await add_staff(
        settings,
        "r-0042",
        department="市市场监督管理局",
        roles=["reviewer"],
        password="a reviewer password",
    )
    assert key != again  # resetting issues a new personal key; the old one stops working
    async with api(gateway) as client:
        ok = await client.post(
            "/api/v1/auth/staff/sessions",
            json={"staff_id": "r-0042", "password": "a reviewer password", "personal_key": again},
        )
        old = await client.post(
            "/api/v1/auth/staff/sessions",
            json={"staff_id": "r-0042", "password": "a reviewer password", "personal_key": key},
        )
    assert ok.status_code == 200, ok.text
    assert old.status_code == 401
    principal = parts(gateway).tokens.verify(ok.json()["access_token"])
    assert (principal.principal_type, principal.roles, principal.department) == (
        "staff",
        ("reviewer",),
        "市市场监督管理局",
    )
