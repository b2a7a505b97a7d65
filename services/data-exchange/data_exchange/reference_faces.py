"""Reference faces of the population library: a county record's photo becomes an
encrypted encoding at enrolment; the match endpoint compares probes with it."""

from __future__ import annotations

import json

from data_exchange.events import CountyPopulationRecord
from data_exchange.faces import FaceMatcher, FaceRefused, decode_image
from data_exchange.identifiers import InvalidRecord
from yiwang_platform.pii import PiiCipher


async def encode_reference(
    matcher: FaceMatcher, cipher: PiiCipher, record: CountyPopulationRecord
) -> str | None:
    """The stored form of the record's reference face (None: the record has none).

    Raises InvalidRecord when the photo holds no single face or is no JPEG/PNG image.
    FaceMatcherUnavailable (a provider that is down) propagates: the record is not
    wrong, and is retried.
    """
    if record.reference_face is None:
        return None
    try:
        encoding = await matcher.encode(decode_image(record.reference_face))
    except FaceRefused as exc:
        if exc.reason == "unreadable_image":
            raise InvalidRecord("reference_face: not a readable JPEG or PNG image") from exc
        raise InvalidRecord("reference_face: no single face") from exc
    return cipher.encrypt(json.dumps({"model": matcher.model, "encoding": encoding}))


def stored_encoding(cipher: PiiCipher, stored: str | None, model: str) -> list[float] | None:
    """The reference encoding, if there is one made by ``model``."""
    if stored is None:
        return None
    data = json.loads(cipher.decrypt(stored))
    if data.get("model") != model:
        return None
    return [float(x) for x in data["encoding"]]
