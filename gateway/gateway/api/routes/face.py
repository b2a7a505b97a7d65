"""/api/v1/auth/face: face checks (人脸核验) that raise a sign-in session to L3.

1. ``POST /api/v1/auth/face/challenges``: a one-time challenge bound to the session.
2. ``POST /api/v1/auth/face/verifications`` with the challenge and a selfie: the
   challenge is consumed, data-exchange compares the selfie with the citizen's reference
   face (which never leaves it) and answers match / no match with a score. A match
   raises the session to L3 for ``face_window_minutes``; ``face_max_failures``
   non-matches within ``face_failure_window_seconds`` lock face checks for the person
   for ``face_lockout_seconds``.
"""

from __future__ import annotations

from fastapi import APIRouter

from gateway.api.deps import CallerDep, FaceChecksDep, FaceVerifierDep
from gateway.identity import face
from gateway.schemas import ChallengeRead, VerificationBody, VerificationRead

router = APIRouter(prefix="/api/v1/auth/face", tags=["auth"])


@router.post(
    "/challenges",
    response_model=ChallengeRead,
    status_code=201,
    summary="A one-time face-check challenge for this session (expires within 2 minutes)",
)
async def new_challenge(caller: CallerDep, checks: FaceChecksDep) -> ChallengeRead:
    return ChallengeRead.of(await face.new_challenge(checks, caller))


@router.post(
    "/verifications",
    response_model=VerificationRead,
    summary="Verify a selfie against the population library's reference face",
    responses={
        400: {"description": "challenge_expired, challenge_foreign, challenge_mismatch"},
        403: {"description": "real_name_required"},
        404: {"description": "no_reference_face"},
        409: {"description": "challenge_used"},
        413: {"description": "payload_too_large"},
        422: {"description": "no_face, several_faces, unreadable_image"},
        423: {"description": "face_locked (Retry-After)"},
        503: {"description": "face_check_unavailable"},
    },
)
async def verify(
    body: VerificationBody, caller: CallerDep, verifier: FaceVerifierDep
) -> VerificationRead:
    return VerificationRead.of(await verifier.verify(caller, body))
