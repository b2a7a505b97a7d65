"""The face matchers on their own: dlib's real model on two real photos and variants
of them (the measurement behind the default threshold), and the HTTP matcher against
a local stand-in for a province's provider.

The photos in tests/faces/ are in the public domain: ``astronaut.png`` (Eileen Collins,
NASA; shipped with scikit-image) and ``grace_hopper.jpg`` (Grace Hopper, US Navy;
shipped with matplotlib).
"""

from __future__ import annotations

import base64
import io
import math
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from PIL import Image, ImageEnhance

from data_exchange.faces import (
    DEFAULT_THRESHOLD,
    DlibFaceMatcher,
    FaceMatcherUnavailable,
    FaceRefused,
    HttpFaceMatcher,
    decode_image,
)

FACES = Path(__file__).parent / "faces"


def photo(name: str) -> Image.Image:
    with Image.open(FACES / name) as image:
        return image.convert("RGB")


def as_bytes(image: Image.Image, fmt: str = "JPEG", **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def variants(image: Image.Image) -> dict[str, Image.Image]:
    """What a second photo of the same face might change: framing, size, light, tilt."""
    w, h = image.size
    return {
        # Framed tighter and brought to a phone's preview size.
        "crop": image.crop((int(w * 0.1), 0, int(w * 0.9), int(h * 0.8))).resize((360, 360)),
        "scale 0.5": image.resize((w // 2, h // 2)),
        "scale 1.5": image.resize((w * 3 // 2, h * 3 // 2)),
        "brightness 1.4": ImageEnhance.Brightness(image).enhance(1.4),
        "brightness 0.6": ImageEnhance.Brightness(image).enhance(0.6),
        "contrast 0.6": ImageEnhance.Contrast(image).enhance(0.6),
        "rotation +8°": image.rotate(8, resample=Image.Resampling.BICUBIC),
        "rotation -8°": image.rotate(-8, resample=Image.Resampling.BICUBIC),
        "mirror": image.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
        "jpeg quality 40": Image.open(io.BytesIO(as_bytes(image, quality=40))),
    }


@pytest.mark.face_model
async def test_measured_distances_put_the_threshold_between_same_and_different_people():
    """The measurement behind DEFAULT_THRESHOLD (numbers as measured here):

    same person, variant vs. original   0.06 - 0.22
    different people, originals         0.70
    different people, variant vs. other 0.63 - 0.71
    """
    matcher = DlibFaceMatcher()
    files = {"astronaut": "astronaut.png", "hopper": "grace_hopper.jpg"}
    people = {name: photo(file) for name, file in files.items()}
    # The references: the files as they are.
    reference = {
        name: await matcher.encode((FACES / file).read_bytes()) for name, file in files.items()
    }
    assert all(len(encoding) == 128 for encoding in reference.values())

    different = math.dist(reference["astronaut"], reference["hopper"])
    assert 0.65 < different < 0.75
    same: dict[str, float] = {}
    crossed: dict[str, float] = {}
    for name, image in people.items():
        other = "hopper" if name == "astronaut" else "astronaut"
        for label, variant in variants(image).items():
            encoding = await matcher.encode(as_bytes(variant, "PNG"))
            same[f"{name} {label}"] = math.dist(reference[name], encoding)
            crossed[f"{name} {label}"] = math.dist(reference[other], encoding)

    print(f"\ndifferent people: {different:.4f}")
    for label in same:
        print(f"{label:28} same {same[label]:.4f}  other {crossed[label]:.4f}")
    assert max(same.values()) < 0.3 < DEFAULT_THRESHOLD
    assert min(crossed.values()) > 0.6 > DEFAULT_THRESHOLD
    # Every variant is accepted as its own person and refused as the other.
    for label, distance in same.items():
        assert distance <= DEFAULT_THRESHOLD, label
    for label, distance in crossed.items():
        assert distance > DEFAULT_THRESHOLD, label


@pytest.mark.face_model
async def test_compare_accepts_the_same_person_and_refuses_another():
    matcher = DlibFaceMatcher()
    hopper = photo("grace_hopper.jpg")
    reference = await matcher.encode(as_bytes(hopper))
    darker = await matcher.compare(
        reference, as_bytes(ImageEnhance.Brightness(hopper).enhance(0.7))
    )
    assert darker.match and darker.score < 0.3
    other = await matcher.compare(reference, as_bytes(photo("astronaut.png"), "PNG"))
    assert not other.match and other.score > 0.6


@pytest.mark.face_model
async def test_only_an_image_with_exactly_one_face_is_used():
    matcher = DlibFaceMatcher()
    astronaut, hopper = photo("astronaut.png"), photo("grace_hopper.jpg")
    # The mission patch on the astronaut's suit: the detector's weak false alarm.
    patch = astronaut.crop((100, 300, 250, 450))
    blank = Image.new("RGB", (400, 400), (128, 128, 128))
    both = Image.new("RGB", (1112, 600))
    both.paste(astronaut, (0, 0))
    both.paste(hopper, (512, 0))
    for image, reason in ((patch, "no_face"), (blank, "no_face"), (both, "several_faces")):
        with pytest.raises(FaceRefused) as refused:
            await matcher.encode(as_bytes(image))
        assert refused.value.reason == reason
    # The astronaut's own photo holds that patch too, and still counts as one face.
    assert len(await matcher.encode(as_bytes(astronaut, "PNG"))) == 128


async def test_images_that_are_not_jpeg_or_png_are_refused_unread():
    matcher = DlibFaceMatcher()
    gif = as_bytes(Image.new("RGB", (50, 50)), "GIF")
    for data in (b"not an image at all", gif, b""):
        with pytest.raises(FaceRefused) as refused:
            await matcher.encode(data)
        assert refused.value.reason == "unreadable_image"
    with pytest.raises(FaceRefused):
        decode_image("not base64!")
    assert decode_image(base64.b64encode(b"abcd").decode().rstrip("=")) == b"abcd"


# ---- the HTTP matcher ------------------------------------------------------------------
# A province's certified provider is a third party that cannot run here: this small app
# stands in for it, speaking the API HttpFaceMatcher documents.


def provider_stand_in() -> tuple[FastAPI, list[dict[str, object]]]:
    app = FastAPI()
    calls: list[dict[str, object]] = []

    @app.post("/encodings")
    async def encodings(body: dict[str, object]) -> JSONResponse:
        calls.append(body)
        image = base64.b64decode(str(body["image"]))
        if image == b"nobody":
            return JSONResponse({"reason": "no_face"}, status_code=422)
        if image == b"broken provider":
            return JSONResponse({"error": "internal"}, status_code=500)
        return JSONResponse({"encoding": [float(len(image)), 1.0, 2.0]})

    @app.post("/comparisons")
    async def comparisons(body: dict[str, object]) -> JSONResponse:
        calls.append(body)
        image = base64.b64decode(str(body["image"]))
        if image == b"two people":
            return JSONResponse({"reason": "several_faces"}, status_code=422)
        reference = body["reference"]
        assert isinstance(reference, list)
        same = reference[0] == float(len(image))
        return JSONResponse({"match": same, "score": 0.1 if same else 0.9})

    return app, calls


async def test_the_http_matcher_speaks_the_provider_api():
    app, calls = provider_stand_in()
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://provider", timeout=5
    )
    matcher = HttpFaceMatcher("http://provider", client=client)
    try:
        reference = await matcher.encode(b"selfie-1")
        assert reference == [8.0, 1.0, 2.0]
        assert calls[0] == {"image": base64.b64encode(b"selfie-1").decode()}

        same = await matcher.compare(reference, b"selfie-2")  # same length: "same person"
        assert (same.match, same.score) == (True, 0.1)
        other = await matcher.compare(reference, b"someone else")
        assert (other.match, other.score) == (False, 0.9)
        assert calls[2] == {
            "reference": [8.0, 1.0, 2.0],
            "image": base64.b64encode(b"someone else").decode(),
        }

        with pytest.raises(FaceRefused) as refused:
            await matcher.encode(b"nobody")
        assert refused.value.reason == "no_face"
        with pytest.raises(FaceRefused) as refused:
            await matcher.compare(reference, b"two people")
        assert refused.value.reason == "several_faces"
        with pytest.raises(FaceMatcherUnavailable):
            await matcher.encode(b"broken provider")
    finally:
        await matcher.close()


async def test_the_http_matcher_reports_an_unreachable_provider():
    # Nothing listens on port 9 (discard): the connection is refused at once.
    matcher = HttpFaceMatcher("http://127.0.0.1:9", timeout=2)
    try:
        with pytest.raises(FaceMatcherUnavailable):
            await matcher.encode(b"selfie")
    finally:
        await matcher.close()
    with pytest.raises(ValueError):
        HttpFaceMatcher("")
