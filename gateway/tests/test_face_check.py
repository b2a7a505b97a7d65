"""Face checks through the gateway in front of the real data-exchange app (dlib's real
model): a match raises the session to L3; replayed, expired, foreign and mistyped
challenges never reach the matcher; failed checks lock; only real-named citizens with
a session may use them, and the match endpoint cannot be reached around the checks."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import io
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import httpx
import pytest
from PIL import Image, ImageEnhance

from gateway.identity.principal import Principal
from gateway.tests.conftest import api_keys, gateway_client, id_number, parts, person, push_people
from yiwang_platform.testing import REDIS_URL, running

pytestmark = pytest.mark.face_model

FACES = Path(__file__).parents[2] / "services" / "data-exchange" / "tests" / "faces"
CHALLENGES = "/api/v1/auth/face/challenges"
VERIFICATIONS = "/api/v1/auth/face/verifications"


HOPPER = id_number(date(1906, 12, 9), 301, area="110105")
UNENROLLED = id_number(date(1975, 3, 3), 302, area="110105")
CITIZEN_KEY = "citizen-api-key-for-face-tests"


def jpeg_b64(image: Image.Image) -> str:
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=90)
    return base64.b64encode(out.getvalue()).decode()


def hopper() -> Image.Image:
    return Image.open(FACES / "grace_hopper.jpg").convert("RGB")


def astronaut() -> Image.Image:
    return Image.open(FACES / "astronaut.png").convert("RGB")


SELFIE = jpeg_b64(ImageEnhance.Brightness(hopper()).enhance(1.15).rotate(4))


async def _apps(backend, service_app, gateway_app, **gateway_settings):
    exchange = await service_app("data_exchange")
    if backend.name == "postgres-kafka" and REDIS_URL:
        gateway_settings.setdefault("redis_url", REDIS_URL)
    front = await gateway_app(
        {"data-exchange": exchange},
        timeout=30,
        api_keys=api_keys({CITIZEN_KEY: Principal(HOPPER, "citizen")}),
        **gateway_settings,
    )
    return exchange, front


@contextlib.asynccontextmanager
async def _platform(
    backend, service_app, gateway_app, signer, forget: str = HOPPER, **gateway_settings
) -> AsyncIterator:
    """Data-exchange with Grace Hopper enrolled, and the gateway; no failures of ``forget``."""
    exchange, front = await _apps(backend, service_app, gateway_app, **gateway_settings)
    async with running(exchange), running(front):
        await _enrol(exchange, signer)
        await _forget_failures(front, forget)
        yield front


async def _enrol(exchange, signer) -> None:
    """A county record with Grace Hopper's photo, through data-exchange's batch endpoint."""
    record = person(
        HOPPER,
        date(1906, 12, 9),
        "葛蕾丝",
        source="110105-hukou",
        sex="女",
        reference_face=jpeg_b64(hopper()),
    )
    assert await push_people(exchange, signer, record) == ["created"]


async def _forget_failures(front, subject: str) -> None:
    """Lock and failure counts outlive a test in real Redis: start from none."""
    digest = hashlib.sha256(subject.encode()).hexdigest()
    await parts(front).kv.delete(f"face:locked:{digest}")
    await parts(front).kv.delete(f"face:failures:{digest}")


async def _signed_in(front, subject: str = HOPPER) -> tuple[httpx.AsyncClient, str]:
    """A citizen with a real session and access token (real-name bound: L2)."""
    pair = await parts(front).sign_ins.start(Principal(subject, "citizen", acr="L2"), "acct-face")
    api = gateway_client(front, Authorization=f"Bearer {pair.access_token}")
    return api, pair.access_token


async def _challenge(api: httpx.AsyncClient) -> dict[str, str]:
    answer = await api.post(CHALLENGES)
    assert answer.status_code == 201, answer.text
    return answer.json()


async def _verify(api: httpx.AsyncClient, challenge: dict[str, str], image: str = SELFIE):
    return await api.post(
        VERIFICATIONS,
        json={
            "challenge_id": challenge["challenge_id"],
            "nonce": challenge["nonce"],
            "image": image,
        },
    )


async def test_a_match_raises_the_session_to_l3_and_a_challenge_works_once(
    backend, service_app, gateway_app, signer
):
    async with _platform(backend, service_app, gateway_app, signer) as front:
        api, token = await _signed_in(front)
        other_session, _ = await _signed_in(front)
        async with api, other_session:
            challenge = await _challenge(api)
            assert set(challenge) == {"challenge_id", "nonce", "expires_at"}

            # Another session of the same person, or the wrong nonce: refused, not consumed.
            foreign = await _verify(other_session, challenge)
            assert (foreign.status_code, foreign.json()["code"]) == (400, "challenge_foreign")
            wrong = await _verify(api, {**challenge, "nonce": "guessed"})
            assert (wrong.status_code, wrong.json()["code"]) == (400, "challenge_mismatch")

            verified = await _verify(api, challenge)
            assert verified.status_code == 200, verified.text
            body = verified.json()
            assert body["match"] is True and body["acr"] == "L3" and body["score"] < 0.3
            assert body["valid_until"]
            # The session is L3 now: authentication reads the mark.
            claims = parts(front).tokens.verify(token)
            assert (await parts(front).sign_ins.state(claims.session_id)) == (False, True)

            replayed = await _verify(api, challenge)
            assert (replayed.status_code, replayed.json()["code"]) == (409, "challenge_used")
            unknown = await _verify(api, {"challenge_id": "made-up", "nonce": "x"})
            assert (unknown.status_code, unknown.json()["code"]) == (400, "challenge_expired")

            # Probes the matcher cannot use are refused as data-exchange says.
            blank = jpeg_b64(Image.new("RGB", (300, 300), (90, 90, 90)))
            refused = await _verify(api, await _challenge(api), blank)
            assert (refused.status_code, refused.json()["code"]) == (422, "no_face")


async def test_an_expired_challenge_is_refused(backend, service_app, gateway_app, signer):
    async with _platform(
        backend, service_app, gateway_app, signer, face_challenge_seconds=0.5
    ) as front:
        api, _ = await _signed_in(front)
        async with api:
            challenge = await _challenge(api)
            await asyncio.sleep(0.8)
            late = await _verify(api, challenge)
            assert (late.status_code, late.json()["code"]) == (400, "challenge_expired")


async def test_failed_checks_lock_face_checks_for_the_person(
    backend, service_app, gateway_app, signer
):
    async with _platform(backend, service_app, gateway_app, signer, face_max_failures=3) as front:
        api, _ = await _signed_in(front)
        impostor = jpeg_b64(astronaut())
        async with api:
            left = []
            for _ in range(3):
                answer = await _verify(api, await _challenge(api), impostor)
                assert answer.status_code == 200, answer.text
                assert answer.json()["match"] is False and answer.json()["acr"] == "L2"
                left.append(answer.json()["attempts_left"])
            assert left == [2, 1, 0]
            locked = await api.post(CHALLENGES)
            assert (locked.status_code, locked.json()["code"]) == (423, "face_locked")
            assert int(locked.headers["Retry-After"]) > 0
            # Locked for the person, in every session, even with the right face.
            other, _ = await _signed_in(front)
            async with other:
                assert (await other.post(CHALLENGES)).status_code == 423
        await _forget_failures(front, HOPPER)


async def test_only_real_named_citizens_with_a_session_and_no_way_around(
    backend, service_app, gateway_app, signer
):
    async with _platform(backend, service_app, gateway_app, signer, forget=UNENROLLED) as front:
        unbound, _ = await _signed_in(front, "acct:7")
        async with unbound:
            refused = await unbound.post(CHALLENGES)
            assert (refused.status_code, refused.json()["code"]) == (403, "real_name_required")
        api_key = gateway_client(front, **{"X-Api-Key": CITIZEN_KEY})
        async with api_key:
            refused = await api_key.post(CHALLENGES)
            assert (refused.status_code, refused.json()["code"]) == (400, "session_required")
        nobody, _ = await _signed_in(front, UNENROLLED)
        async with nobody:
            missing = await _verify(nobody, await _challenge(nobody))
            assert (missing.status_code, missing.json()["code"]) == (404, "no_reference_face")
        api, _ = await _signed_in(front)
        async with api:
            # Straight through the proxy to the match endpoint: no challenge, no match.
            around = await api.post("/api/v1/data-exchange/faces/match", json={"image": SELFIE})
            assert around.status_code == 403
