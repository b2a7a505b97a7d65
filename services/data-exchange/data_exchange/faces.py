"""Face matching (人脸核验): reference encodings for the population library and the
comparison of a probe image with them.

Two matchers behind one interface:

- ``DlibFaceMatcher``: dlib's ResNet face-recognition model (through face_recognition,
  model files from the ``face-recognition-models`` package), on the CPU. An image
  becomes a 128-float encoding; two encodings of one person lie close together
  (Euclidean distance), of two people far apart.
- ``HttpFaceMatcher``: a province's certified provider reached over HTTP. It decides
  the match itself; its encodings are opaque to this service.

Encodings of one matcher mean nothing to another: ``model`` names the one that made
an encoding, and references enrolled with another model are treated as missing.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import io
import math
import threading
import warnings
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Literal

import httpx

RefusalReason = Literal["no_face", "several_faces", "unreadable_image"]

# Measured with the two public-domain photos in tests/faces/ (NASA's astronaut.png from
# scikit-image, the US Navy's grace_hopper.jpg from matplotlib) and variants of each made
# with Pillow (crop, 0.5x and 1.5x scale, brightness 1.4 and 0.6, contrast 0.6, rotation
# by ±8°, mirror, JPEG quality 40); tests/test_faces.py repeats the measurement:
#   same person, any variant vs. the original:     0.06 - 0.22  (largest: brightness 1.4)
#   different people (originals):                  0.70
#   different people, any variant vs. the other:   0.63 - 0.71
# The threshold sits in that gap, nearer the different-person side than the midpoint
# (0.43) because photos of one person taken years apart spread wider than edits of one
# photo, and stricter than dlib's own 0.6 (its operating point on LFW): at this
# assurance level a false accept costs more than a retry.
DEFAULT_THRESHOLD = 0.5

# dlib's HOG detector scores each detection. Real faces in the test photos and their
# variants score 0.89 - 1.47; the one false detection (the mission patch on the
# astronaut's suit) scores 0.03 - 0.30. Weaker detections are not counted as faces.
MIN_DETECTION_SCORE = 0.5
# Larger images are scaled down before detection: it bounds the CPU time per image, and
# a face in a selfie or an ID photo stays far above the detector's 80x80 minimum.
MAX_SIDE = 1600
MAX_PIXELS = 40_000_000  # refused unread beyond this (decompression bombs)

# dlib's networks keep per-call buffers and face_recognition loads one set of them per
# process: one image at a time.
_MODEL_LOCK = threading.Lock()


class FaceRefused(Exception):
    """The image cannot be used: no face, several faces, or not a readable JPEG/PNG."""

    def __init__(self, reason: RefusalReason) -> None:
        super().__init__(reason)
        self.reason: RefusalReason = reason


class FaceMatcherUnavailable(ConnectionError):
    """The matcher could not answer (the provider is down or timed out). A connection
    error, so the event consumer retries the batch as for any outage."""


@dataclass(frozen=True)
class MatchResult:
    match: bool
    score: float  # the distance: lower is more alike


class FaceMatcher(ABC):
    model: str  # which model made an encoding; stored with it

    @abstractmethod
    async def encode(self, image_bytes: bytes) -> list[float]:
        """The encoding of the one face in a reference image. Raises FaceRefused."""

    @abstractmethod
    async def compare(
        self, reference_encoding: list[float], probe_image_bytes: bytes
    ) -> MatchResult:
        """Whether the one face in the probe is the reference's. Raises FaceRefused."""

    async def close(self) -> None:
        return None


def decode_image(value: str) -> bytes:
    """Bytes of a base64 image (standard alphabet, padding optional, no data: URL prefix)."""
    text = value.strip()
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise FaceRefused("unreadable_image") from exc


class DlibFaceMatcher(FaceMatcher):
    model = "dlib-resnet-v1"

    def __init__(
        self,
        threshold: float = DEFAULT_THRESHOLD,
        min_detection_score: float = MIN_DETECTION_SCORE,
        upsample: int = 1,
    ) -> None:
        self.threshold = threshold
        self.min_detection_score = min_detection_score
        self.upsample = upsample
        self._api: Any = None  # face_recognition.api, imported on first use (loads the models)

    def _load(self) -> Any:
        if self._api is None:
            with warnings.catch_warnings():
                # face_recognition_models locates its files through pkg_resources.
                warnings.simplefilter("ignore", UserWarning)
                import face_recognition.api

            self._api = face_recognition.api
        return self._api

    def warm_up(self) -> None:
        """Load the model files now (about a second) rather than on the first request."""
        with _MODEL_LOCK:
            self._load()

    def _encode_sync(self, image_bytes: bytes) -> list[float]:
        import numpy as np
        from PIL import Image, ImageOps, UnidentifiedImageError

        try:
            with Image.open(io.BytesIO(image_bytes)) as image:
                if image.format not in ("JPEG", "PNG"):
                    raise FaceRefused("unreadable_image")
                if image.width * image.height > MAX_PIXELS:
                    raise FaceRefused("unreadable_image")
                # Phones store selfies sideways with an EXIF orientation tag.
                upright = ImageOps.exif_transpose(image).convert("RGB")
        except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
            raise FaceRefused("unreadable_image") from exc
        if max(upright.size) > MAX_SIDE:
            upright.thumbnail((MAX_SIDE, MAX_SIDE))
        pixels = np.asarray(upright)
        with _MODEL_LOCK:
            api = self._load()
            # The detector face_recognition uses, run for its scores as well.
            found, scores, _ = api.face_detector.run(pixels, self.upsample, 0.0)
            faces = [f for f, s in zip(found, scores, strict=True) if s >= self.min_detection_score]
            if not faces:
                raise FaceRefused("no_face")
            if len(faces) > 1:
                raise FaceRefused("several_faces")
            box = faces[0]
            # 5-point alignment ("small"), as dlib's ResNet model was trained with.
            (descriptor,) = api.face_encodings(
                pixels, [(box.top(), box.right(), box.bottom(), box.left())], 1, "small"
            )
        return [float(x) for x in descriptor]

    async def encode(self, image_bytes: bytes) -> list[float]:
        return await asyncio.to_thread(self._encode_sync, image_bytes)

    async def compare(
        self, reference_encoding: list[float], probe_image_bytes: bytes
    ) -> MatchResult:
        probe = await self.encode(probe_image_bytes)
        if len(probe) != len(reference_encoding):
            raise ValueError("reference encoding of another model")
        distance = math.dist(reference_encoding, probe)
        return MatchResult(match=distance <= self.threshold, score=round(distance, 4))


class HttpFaceMatcher(FaceMatcher):
    """A certified provider's face service, over HTTP (JSON):

    - ``POST {url}/encodings`` ``{"image": base64}`` → ``{"encoding": [float, ...]}``
    - ``POST {url}/comparisons`` ``{"reference": [float, ...], "image": base64}`` →
      ``{"match": bool, "score": float}``

    An image the provider cannot use is answered 422 ``{"reason": "no_face" |
    "several_faces" | "unreadable_image"}``. The provider applies its own certified
    threshold. Transport errors, timeouts and other statuses are FaceMatcherUnavailable.
    """

    model = "http-provider"

    def __init__(
        self, url: str, timeout: float = 10.0, client: httpx.AsyncClient | None = None
    ) -> None:
        if not url:
            raise ValueError("face_matcher_url must be set for the http face matcher")
        self._client = client or httpx.AsyncClient(base_url=url.rstrip("/"), timeout=timeout)

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            response = await self._client.post(path, json=body)
        except httpx.HTTPError as exc:
            raise FaceMatcherUnavailable(type(exc).__name__) from exc
        if response.status_code == 422:
            reason = _json(response).get("reason")
            if reason in ("no_face", "several_faces", "unreadable_image"):
                raise FaceRefused(reason)
        if response.status_code != 200:
            raise FaceMatcherUnavailable(f"provider answered {response.status_code}")
        return _json(response)

    async def encode(self, image_bytes: bytes) -> list[float]:
        answer = await self._post("/encodings", {"image": base64.b64encode(image_bytes).decode()})
        encoding = answer.get("encoding")
        if not isinstance(encoding, list) or not encoding:
            raise FaceMatcherUnavailable("provider sent no encoding")
        return [float(x) for x in encoding]

    async def compare(
        self, reference_encoding: list[float], probe_image_bytes: bytes
    ) -> MatchResult:
        answer = await self._post(
            "/comparisons",
            {
                "reference": reference_encoding,
                "image": base64.b64encode(probe_image_bytes).decode(),
            },
        )
        if not isinstance(answer.get("match"), bool):
            raise FaceMatcherUnavailable("provider sent no decision")
        return MatchResult(match=answer["match"], score=float(answer.get("score", 0.0)))

    async def close(self) -> None:
        await self._client.aclose()


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
