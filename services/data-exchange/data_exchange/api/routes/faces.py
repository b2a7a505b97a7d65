"""/api/v1/data-exchange/faces/match: does a probe image show the holder of the reference
face in the population library (人脸核验)? Answers match / no match and a score; the
reference never leaves this service.

Only the gateway's face-check flow calls this: its internal token names the scenario
``face-check`` and the one-time challenge it consumed (``face_challenge``), which no
scenario policy can grant, so the challenge, its expiry and the lockout after failed
attempts cannot be bypassed through the general proxy. The person is the token's
subject (a citizen's resident ID number), never anything in the body.
"""

from __future__ import annotations

import logging
from typing import cast

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from stdnum.cn import ric

from data_exchange.access_audit import record_access
from data_exchange.api.deps import CipherDep, FaceMatcherDep
from data_exchange.faces import FaceMatcherUnavailable, FaceRefused, decode_image
from data_exchange.models import PopulationRecord
from data_exchange.reference_faces import stored_encoding
from data_exchange.settings import Settings
from yiwang_platform.deps import PrincipalDep, RuntimeDep, SessionDep
from yiwang_platform.errors import ProblemError

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1/data-exchange/faces", tags=["faces"])

FACE_CHECK_SCENARIO = "face-check"
FIELDS = ("population.face_encoding",)

_REFUSALS = {
    "no_face": ("未检测到人脸", "No face found in the image"),
    "several_faces": ("检测到多张人脸", "More than one face in the image"),
    "unreadable_image": ("图像无法识别", "Not a readable JPEG or PNG image"),
}


class FaceProbe(BaseModel):
    model_config = ConfigDict(extra="forbid")

    image: str = Field(
        min_length=1,
        description="the probe photo (a selfie): JPEG or PNG, base64, exactly one face",
        json_schema_extra={"contentEncoding": "base64"},
    )


class FaceMatchRead(BaseModel):
    match: bool
    score: float = Field(description="distance between the faces: lower is more alike")


def _too_large(limit: int) -> ProblemError:
    return ProblemError(
        413,
        "payload_too_large",
        "图像过大",
        f"the image may have at most {limit} bytes",
        title_en="Image too large",
    )


@router.post(
    "/match",
    response_model=FaceMatchRead,
    summary="Compare a probe image with the caller's reference face (gateway face check only)",
    responses={
        403: {"description": "not the gateway's face-check flow, or not a citizen"},
        404: {"description": "no_reference_face: the person has no reference face"},
        413: {"description": "payload_too_large: the image is over the limit"},
        422: {"description": "no_face, several_faces or unreadable_image"},
        503: {"description": "face_matcher_unavailable"},
    },
)
async def match_face(
    body: FaceProbe,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: PrincipalDep,
    cipher: CipherDep,
    matcher: FaceMatcherDep,
) -> FaceMatchRead:
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
    limit = cast(Settings, runtime.settings).face_max_image_bytes
    if len(body.image) > (limit + 2) // 3 * 4 + 4:
        raise _too_large(limit)
    try:
        image = decode_image(body.image)
    except FaceRefused as exc:
        raise _refused(exc) from exc
    if len(image) > limit:
        raise _too_large(limit)

    id_index = cipher.blind_index(ric.compact(principal.subject))
    row = await session.scalar(
        select(PopulationRecord).where(PopulationRecord.id_index == id_index)
    )
    reference = stored_encoding(cipher, row.face_encoding, matcher.model) if row else None
    if row is None or reference is None:
        log.info("face match: no reference face (record %s)", row.record_id if row else "none")
        await record_access(session, principal, id_index, FIELDS, "not_found")
        raise ProblemError(
            404,
            "no_reference_face",
            "人口库中无该人员的比对照片",
            "the population library holds no reference face for this person",
            title_en="No reference face",
        )
    try:
        result = await matcher.compare(reference, image)
    except FaceRefused as exc:
        log.info("face match: probe refused (%s), record %s", exc.reason, row.record_id)
        raise _refused(exc) from exc
    except FaceMatcherUnavailable as exc:
        log.warning("face match: matcher unavailable (%s)", exc)
        raise ProblemError(
            503, "face_matcher_unavailable", "人脸比对服务暂不可用", headers={"Retry-After": "5"}
        ) from exc
    log.info(
        "face match: record %s match=%s score=%.4f (challenge %s)",
        row.record_id,
        result.match,
        result.score,
        principal.claims.get("face_challenge"),
    )
    await record_access(
        session, principal, id_index, FIELDS, "matched" if result.match else "not_matched"
    )
    return FaceMatchRead(match=result.match, score=result.score)


def _refused(exc: FaceRefused) -> ProblemError:
    zh, en = _REFUSALS[exc.reason]
    return ProblemError(422, exc.reason, zh, title_en=en)
