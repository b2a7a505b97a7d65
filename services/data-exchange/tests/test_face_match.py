"""Reference faces and the match endpoint on both backends, with dlib's real model:
enrolment by county event and by batch stores an encrypted encoding and never the
photo; the holder's own face matches, another person's does not; unusable probes,
missing references, oversized images and callers outside the face-check flow are
refused."""

from __future__ import annotations

import base64
import functools
import io
import json
from datetime import date
from pathlib import Path

import pytest
from PIL import Image, ImageEnhance
from sqlalchemy import select

from data_exchange.models import PopulationRecord
from yiwang_platform.bus import OutgoingMessage
from yiwang_platform.events import CloudEvent
from yiwang_platform.testing import client, eventually, running

from .factories import county_client, make_app, resident
from .factories import id_number as resident_id

pytestmark = pytest.mark.face_model

FACES = Path(__file__).parent / "faces"
RECORDS = "/api/v1/data-exchange/population/records"
MATCH = "/api/v1/data-exchange/faces/match"
COUNTY_TYPE = "gov.county.population.record.v1"
COUNTY_TOPIC = "data-exchange.inbound.population.v1"

id_number = functools.partial(resident_id, area="110102")
record = functools.partial(resident, source="110102-hukou", name="葛蕾丝", sex="女")

HOPPER = id_number(date(1906, 12, 9), 201)
COLLINS = id_number(date(1956, 11, 19), 202)
NO_PHOTO = id_number(date(1980, 5, 5), 203)


def jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=90)
    return out.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def hopper() -> Image.Image:
    return Image.open(FACES / "grace_hopper.jpg").convert("RGB")


def astronaut() -> Image.Image:
    return Image.open(FACES / "astronaut.png").convert("RGB")


def blank() -> Image.Image:
    return Image.new("RGB", (400, 400), (120, 120, 120))


def citizen(app, signer, number: str, **claims: object):
    """The token the gateway mints for a face check."""
    values: dict[str, object] = {"scn": "face-check", "face_challenge": "c-1", "acr": "L2"}
    values.update(claims)
    return client(
        app, signer, audience="data-exchange", principal_type="citizen", subject=number, **values
    )


async def stored(app, number: str) -> PopulationRecord | None:
    cipher = app.state.runtime.cipher
    async with app.state.runtime.sessions() as s:
        return await s.scalar(
            select(PopulationRecord).where(PopulationRecord.id_index == cipher.blind_index(number))
        )


def assert_encoding_only(app, row: PopulationRecord, photo: str) -> None:
    assert row.face_encoding is not None
    data = json.loads(app.state.runtime.cipher.decrypt(row.face_encoding))
    assert data["model"] == "dlib-resnet-v1"
    assert len(data["encoding"]) == 128
    # Nothing of the photo is kept: the stored value is small and holds no part of it.
    assert len(row.face_encoding) < 5000
    for value in vars(row).values():
        if isinstance(value, str):
            assert photo[1000:1100] not in value


async def enrol_by_batch(app, signer) -> list[dict[str, object]]:
    async with county_client(app, signer, "c-110102") as api:
        response = await api.post(
            RECORDS,
            json={
                "records": [
                    record(HOPPER, date(1906, 12, 9), reference_face=b64(jpeg(hopper()))),
                    record(COLLINS, date(1956, 11, 19), reference_face=b64(jpeg(astronaut()))),
                    record(NO_PHOTO, date(1980, 5, 5)),
                    record(
                        id_number(date(1990, 2, 2), 204),
                        date(1990, 2, 2),
                        reference_face=b64(jpeg(blank())),
                    ),
                    record(
                        id_number(date(1990, 2, 3), 205),
                        date(1990, 2, 3),
                        reference_face=b64(b"GIF89a" + b"\0" * 200),
                    ),
                ]
            },
        )
    assert response.status_code == 200, response.text
    return response.json()["results"]


async def test_batch_enrolment_stores_an_encoding_and_rejects_photos_without_one_face(
    backend, signer, verifier
):
    app = await make_app(backend, verifier)
    async with running(app):
        results = await enrol_by_batch(app, signer)
        assert [(r["status"], r.get("reason")) for r in results] == [
            ("created", None),
            ("created", None),
            ("created", None),
            ("rejected", "reference_face: no single face"),
            ("rejected", "reference_face: not a readable JPEG or PNG image"),
        ]
        row = await stored(app, HOPPER)
        assert row is not None
        assert_encoding_only(app, row, b64(jpeg(hopper())))
        without = await stored(app, NO_PHOTO)
        assert without is not None and without.face_encoding is None

        # A newer record without a photo keeps the reference; one with a photo replaces it.
        before = row.face_encoding
        async with client(app, signer, audience="data-exchange", principal_type="county") as api:
            again = await api.post(
                RECORDS, json={"records": [record(HOPPER, date(1906, 12, 9), source_version=2)]}
            )
            assert again.json()["results"][0]["status"] == "updated"
        kept = await stored(app, HOPPER)
        assert kept is not None and kept.face_encoding == before


async def test_county_event_enrolment_stores_an_encoding_and_dead_letters_a_faceless_photo(
    backend, signer, verifier, read_topic
):
    app = await make_app(backend, verifier)
    photo = b64(jpeg(hopper()))
    events = [
        CloudEvent(
            type=COUNTY_TYPE,
            source="/test",
            data=record(NO_PHOTO, date(1980, 5, 5), reference_face=b64(jpeg(blank()))),
        ),
        CloudEvent(
            type=COUNTY_TYPE,
            source="/test",
            data=record(HOPPER, date(1906, 12, 9), reference_face=photo),
        ),
    ]
    async with running(app):
        await app.state.runtime.bus.publish(
            [
                OutgoingMessage(COUNTY_TOPIC, b"county-110102", e.value(), e.headers())
                for e in events
            ]
        )

        async def enrolled() -> bool:
            return await stored(app, HOPPER) is not None

        await eventually(enrolled, timeout=60)
        row = await stored(app, HOPPER)
        assert row is not None
        assert_encoding_only(app, row, photo)
        assert await stored(app, NO_PHOTO) is None
        dead = await read_topic(COUNTY_TOPIC + ".dlq", 1)
        assert [dict(m.headers)["dlq_reason"].decode() for m in dead] == [
            "rejected: reference_face: no single face"
        ]

        async with citizen(app, signer, HOPPER) as me:
            answer = await me.post(MATCH, json={"image": b64(jpeg(hopper().rotate(5)))})
        assert answer.status_code == 200, answer.text
        assert answer.json()["match"] is True


async def test_match_accepts_the_holder_and_refuses_anyone_else(backend, signer, verifier):
    app = await make_app(backend, verifier, face_max_image_bytes=300_000)
    async with running(app):
        await enrol_by_batch(app, signer)
        selfie = ImageEnhance.Brightness(hopper()).enhance(1.2).resize((420, 492))
        async with citizen(app, signer, HOPPER) as me:
            same = await me.post(MATCH, json={"image": b64(jpeg(selfie))})
            assert same.status_code == 200, same.text
            assert same.json()["match"] is True
            assert same.json()["score"] < 0.3
            # Only match and score: nothing about the reference.
            assert set(same.json()) == {"match", "score"}

            other = await me.post(MATCH, json={"image": b64(jpeg(astronaut()))})
            assert other.status_code == 200
            assert other.json()["match"] is False
            assert other.json()["score"] > 0.6

            nobody = await me.post(MATCH, json={"image": b64(jpeg(blank()))})
            assert (nobody.status_code, nobody.json()["code"]) == (422, "no_face")
            both = Image.new("RGB", (1112, 600))
            both.paste(astronaut(), (0, 0))
            both.paste(hopper(), (512, 0))
            several = await me.post(MATCH, json={"image": b64(jpeg(both))})
            assert (several.status_code, several.json()["code"]) == (422, "several_faces")
            garbage = await me.post(MATCH, json={"image": "%%%"})
            assert (garbage.status_code, garbage.json()["code"]) == (422, "unreadable_image")

            huge = Image.effect_noise((900, 900), 60).convert("RGB")
            too_large = await me.post(MATCH, json={"image": b64(jpeg(huge))})
            assert (too_large.status_code, too_large.json()["code"]) == (413, "payload_too_large")

        # The astronaut's own reference matches her photo.
        async with citizen(app, signer, COLLINS) as her:
            own = await her.post(MATCH, json={"image": b64(jpeg(astronaut().resize((400, 400))))})
            assert own.json()["match"] is True

        async with citizen(app, signer, NO_PHOTO) as unenrolled:
            missing = await unenrolled.post(MATCH, json={"image": b64(jpeg(hopper()))})
            assert (missing.status_code, missing.json()["code"]) == (404, "no_reference_face")
        async with citizen(app, signer, id_number(date(1999, 9, 9), 206)) as unknown:
            missing = await unknown.post(MATCH, json={"image": b64(jpeg(hopper()))})
            assert (missing.status_code, missing.json()["code"]) == (404, "no_reference_face")


async def test_only_the_gateway_face_check_of_a_real_named_citizen_may_match(
    backend, signer, verifier
):
    app = await make_app(backend, verifier)
    image = {"image": b64(jpeg(hopper()))}
    async with running(app):
        # Through the general proxy a citizen's token carries no face challenge.
        async with citizen(app, signer, HOPPER, scn="citizen-self-lookup") as proxied:
            assert (await proxied.post(MATCH, json=image)).status_code == 403
        async with citizen(app, signer, HOPPER, face_challenge=None) as unchallenged:
            assert (await unchallenged.post(MATCH, json=image)).status_code == 403
        async with client(
            app,
            signer,
            audience="data-exchange",
            principal_type="staff",
            scn="face-check",
            face_challenge="c",
        ) as staff:
            assert (await staff.post(MATCH, json=image)).status_code == 403
        async with citizen(app, signer, "acct:42") as unbound:
            refused = await unbound.post(MATCH, json=image)
            assert (refused.status_code, refused.json()["code"]) == (403, "real_name_required")
        async with client(app, None, audience="data-exchange") as anonymous:
            assert (await anonymous.post(MATCH, json=image)).status_code == 401
