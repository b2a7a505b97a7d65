"""Reference faces of the population library: a county record's photo becomes an
encrypted encoding at enrolment; the match endpoint compares probes with it.

Only the gateway's face-check flow matches: its internal token names the scenario
``face-check`` and the one-time challenge it consumed (``face_challenge``), which no
scenario policy can grant, so the challenge, its expiry and the lockout after failed
attempts cannot be bypassed through the general proxy. The person is the token's
subject (a citizen's resident ID number), never anything in the body.
"""

from __future__ import annotations

import json
import logging

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from stdnum.cn import ric

from data_exchange.access_audit import record_access
from data_exchange.events import CountyPopulationRecord
from data_exchange.faces import (
    FaceMatcher,
    FaceMatcherUnavailable,
    FaceRefused,
    MatchResult,
    decode_image,
)
from data_exchange.identifiers import InvalidRecord
from data_exchange.models import PopulationRecord
from yiwang_platform.errors import ProblemError
from yiwang_platform.internal_token import InternalPrincipal
from yiwang_platform.outbox import Outbox
from yiwang_platform.pii import PiiCipher

log = logging.getLogger(__name__)

FACE_CHECK_SCENARIO = "face-check"
FIELDS = ("population.face_encoding",)

_REFUSALS = {
    "no_face": ("未检测到人脸", "No face found in the image"),
    "several_faces": ("检测到多张人脸", "More than one face in the image"),
    "unreadable_image": ("图像无法识别", "Not a readable JPEG or PNG image"),
}


async def encode_reference(
    *, matcher: FaceMatcher, cipher: PiiCipher, record: CountyPopulationRecord
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


def stored_encoding(cipher: PiiCipher, stored: str | None, *, model: str) -> list[float] | None:
    """The reference encoding, if there is one made by ``model``."""
    if stored is None:
        return None
    data = json.loads(cipher.decrypt(stored))
    if data.get("model") != model:
        return None
    return [float(x) for x in data["encoding"]]


def no_reference_face() -> ProblemError:
    return ProblemError(
        404,
        "no_reference_face",
        "人口库中无该人员的比对照片",
        "the population library holds no reference face for this person",
        title_en="No reference face",
    )


def _too_large(limit: int) -> ProblemError:
    return ProblemError(
        413,
        "payload_too_large",
        "图像过大",
        f"the image may have at most {limit} bytes",
        title_en="Image too large",
    )


def _refused(exc: FaceRefused) -> ProblemError:
    zh, en = _REFUSALS[exc.reason]
    return ProblemError(422, exc.reason, zh, title_en=en)


def face_matcher_unavailable() -> ProblemError:
    return ProblemError(
        503, "face_matcher_unavailable", "人脸比对服务暂不可用", headers={"Retry-After": "5"}
    )


def _probe_image(image: str, *, limit: int) -> bytes:
    """The probe's bytes, refused unread when its base64 is already too long."""
    if len(image) > (limit + 2) // 3 * 4 + 4:
        raise _too_large(limit)
    try:
        probe = decode_image(image)
    except FaceRefused as exc:
        raise _refused(exc) from exc
    if len(probe) > limit:
        raise _too_large(limit)
    return probe


async def match(
    *,
    session: AsyncSession,
    outbox: Outbox,
    principal: InternalPrincipal,
    cipher: PiiCipher,
    matcher: FaceMatcher,
    image: str,
    max_image_bytes: int,
) -> MatchResult | None:
    """Whether the probe (base64) shows the caller; None when the library holds no
    reference face for them. A compared or missing reference is logged."""
    if (
        principal.principal_type != "citizen"
        or principal.scenario != FACE_CHECK_SCENARIO
        or not principal.claims.get("face_challenge")
    ):
        raise ProblemError(403, "forbidden", "无权访问", "only the gateway's face check may match")
    if not ric.is_valid(principal.subject):
        raise ProblemError(
            403, "real_name_required", "需要实名认证", title_en="Real-name binding required"
        )
    probe = _probe_image(image, limit=max_image_bytes)
    id_index = cipher.blind_index(ric.compact(principal.subject))
    row = await session.scalar(
        select(PopulationRecord).where(PopulationRecord.id_index == id_index)
    )
    reference = stored_encoding(cipher, row.face_encoding, model=matcher.model) if row else None

    async def logged(outcome: str) -> None:
        await record_access(
            session,
            principal,
            outbox=outbox,
            subject_index=id_index,
            fields=FIELDS,
            outcome=outcome,
        )

    if row is None or reference is None:
        log.info("face match: no reference face (record %s)", row.record_id if row else "none")
        await logged("not_found")
        return None
    try:
        result = await matcher.compare(reference, probe)
    except FaceRefused as exc:
        log.info("face match: probe refused (%s), record %s", exc.reason, row.record_id)
        raise _refused(exc) from exc
    except FaceMatcherUnavailable as exc:
        log.warning("face match: matcher unavailable (%s)", exc)
        raise face_matcher_unavailable() from exc
    log.info(
        "face match: record %s match=%s score=%.4f (challenge %s)",
        row.record_id,
        result.match,
        result.score,
        principal.claims.get("face_challenge"),
    )
    await logged("matched" if result.match else "not_matched")
    return result
