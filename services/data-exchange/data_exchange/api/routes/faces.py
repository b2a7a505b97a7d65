"""/api/v1/data-exchange/faces/match: does a probe image show the holder of the reference
face in the population library (人脸核验)? Answers match / no match and a score; the
reference never leaves this service. Only the gateway's face-check flow may call it
(see data_exchange.reference_faces)."""

from __future__ import annotations

from fastapi import APIRouter

from data_exchange import reference_faces
from data_exchange.api.deps import FaceMatcherDep, SettingsDep
from data_exchange.schemas import FaceMatchRead, FaceProbe
from yiwang_platform.deps import CipherDep, OutboxDep, PrincipalDep, SessionDep

router = APIRouter(prefix="/api/v1/data-exchange/faces", tags=["faces"])


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
    outbox: OutboxDep,
    principal: PrincipalDep,
    cipher: CipherDep,
    matcher: FaceMatcherDep,
    settings: SettingsDep,
) -> FaceMatchRead:
    async with session.begin():
        result = await reference_faces.match(
            session=session,
            outbox=outbox,
            principal=principal,
            cipher=cipher,
            matcher=matcher,
            image=body.image,
            max_image_bytes=settings.face_max_image_bytes,
        )
    if result is None:
        raise reference_faces.no_reference_face()
    return FaceMatchRead(match=result.match, score=result.score)
