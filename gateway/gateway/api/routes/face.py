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

import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from gateway.access_log import Access
from gateway.api.deps import CallerDep
from gateway.face import SCENARIO, FaceChecks, require_real_name
from gateway.identity import Principal
from gateway.proxy import Forwarder
from gateway.settings import Settings
from gateway.upstreams import UpstreamUnavailable
from yiwang_platform.errors import ProblemError
from yiwang_platform.tracing import current_trace_id, current_traceparent

router = APIRouter(prefix="/api/v1/auth/face", tags=["auth"])

MATCH_PATH = "/api/v1/data-exchange/faces/match"
# What data-exchange may answer about a probe or a reference, passed on as it is.
_PASSED_ON = {"no_reference_face", "no_face", "several_faces", "unreadable_image"}


class ChallengeRead(BaseModel):
    challenge_id: str
    nonce: str
    expires_at: datetime


class VerificationBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    challenge_id: str = Field(min_length=1, max_length=64)
    nonce: str = Field(min_length=1, max_length=64)
    image: str = Field(
        min_length=1,
        description="the selfie: JPEG or PNG, base64, exactly one face",
        json_schema_extra={"contentEncoding": "base64"},
    )


class VerificationRead(BaseModel):
    match: bool
    score: float = Field(description="distance between the faces: lower is more alike")
    acr: str = Field(description="the session's assurance level after this check")
    valid_until: datetime | None = Field(
        default=None, description="until when the session is L3 (on a match)"
    )
    attempts_left: int | None = Field(
        default=None, description="failed checks left before the lock (on no match)"
    )


def _settings(request: Request) -> Settings:
    return cast(Settings, request.app.state.runtime.settings)


async def face_checks(request: Request) -> FaceChecks:
    """Built on first use over the gateway's key-value store (``app.state.kv``)."""
    checks: FaceChecks | None = getattr(request.app.state, "face_checks", None)
    if checks is None:
        s = _settings(request)
        checks = FaceChecks(
            request.app.state.kv,
            s.face_challenge_seconds,
            s.face_max_failures,
            s.face_failure_window_seconds,
            s.face_lockout_seconds,
        )
        request.app.state.face_checks = checks
    return checks


FaceChecksDep = Annotated[FaceChecks, Depends(face_checks)]


def _require_session(principal: Principal) -> None:
    if not principal.session_id:
        raise ProblemError(
            400,
            "session_required",
            "需要登录会话",
            "face checks raise a sign-in session; sign in with a token first",
            title_en="A sign-in session is required",
        )


@router.post(
    "/challenges",
    response_model=ChallengeRead,
    status_code=201,
    summary="A one-time face-check challenge for this session (expires within 2 minutes)",
)
async def new_challenge(caller: CallerDep, checks: FaceChecksDep) -> ChallengeRead:
    require_real_name(caller)
    _require_session(caller)
    await checks.check_not_locked(caller)
    challenge = await checks.issue(caller)
    return ChallengeRead(
        challenge_id=challenge.challenge_id,
        nonce=challenge.nonce,
        expires_at=challenge.expires_at,
    )


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
    body: VerificationBody, request: Request, caller: CallerDep, checks: FaceChecksDep
) -> VerificationRead:
    require_real_name(caller)
    _require_session(caller)
    limit = _settings(request).face_max_image_bytes
    if len(body.image) > (limit + 2) // 3 * 4 + 4:
        raise ProblemError(
            413,
            "payload_too_large",
            "图像过大",
            f"the image may have at most {limit} bytes",
            title_en="Image too large",
        )
    await checks.check_not_locked(caller)
    await checks.consume(caller, body.challenge_id, body.nonce)

    status, answer = await _match(request, caller, body.challenge_id, body.image)
    if status == 200 and isinstance(answer.get("match"), bool):
        score = float(answer.get("score", 0.0))
        if not answer["match"]:
            failures = await checks.record_failure(caller)
            return VerificationRead(
                match=False,
                score=score,
                acr=caller.acr,
                attempts_left=max(0, checks.max_failures - failures),
            )
        await checks.record_success(caller)
        return VerificationRead(
            match=True, score=score, acr="L3", valid_until=await _raise_session(request, caller)
        )
    code = answer.get("code")
    if status in (404, 413, 422) and (code in _PASSED_ON or code == "payload_too_large"):
        raise ProblemError(
            status, str(code), str(answer.get("title", code)), title_en=answer.get("title_en")
        )
    raise ProblemError(
        503,
        "face_check_unavailable",
        "人脸核验服务暂不可用",
        "the population library could not compare the face",
        title_en="Face check unavailable",
        headers={"Retry-After": "5"},
    )


async def _raise_session(request: Request, caller: Principal) -> datetime:
    # The session store (gateway.sessions) keeps the L3 mark that authentication reads.
    sessions = getattr(request.app.state, "sessions", None)
    if sessions is not None:
        until: datetime = await sessions.mark_face_verified(caller.session_id)
        return until
    return datetime.now(UTC) + timedelta(minutes=_settings(request).face_window_minutes)


async def _match(
    request: Request, caller: Principal, challenge_id: str, image: str
) -> tuple[int, dict[str, Any]]:
    """Ask data-exchange to compare the image with the caller's reference face."""
    forwarder: Forwarder = request.app.state.forwarder
    token = forwarder.signer.mint(
        audience="data-exchange",
        subject=caller.subject,
        principal_type="citizen",
        ttl=forwarder.token_ttl,
        scn=SCENARIO,
        face_challenge=challenge_id,
        acr=caller.acr,
        roles=list(caller.roles),
        kid_of_caller=caller.key_id,
    )
    headers = [("authorization", f"Bearer {token}"), ("content-type", "application/json")]
    traceparent = current_traceparent()
    if traceparent:
        headers.append(("traceparent", traceparent))
    started = time.perf_counter()
    try:
        answer = await forwarder.upstreams["data-exchange"].send(
            "POST", MATCH_PATH, "", headers, json.dumps({"image": image}).encode()
        )
        status = answer.status
        try:
            data = json.loads(answer.body)
        except ValueError:
            data = {}
    except UpstreamUnavailable:
        status, data = 503, {}
    await forwarder.recorder.record(
        Access(
            id=str(uuid.uuid4()),
            at=datetime.now(UTC),
            principal_type=caller.principal_type,
            principal_subject=caller.subject,
            key_id=caller.key_id,
            service="data-exchange",
            method="POST",
            path=MATCH_PATH,
            status=status,
            duration_ms=int((time.perf_counter() - started) * 1000),
            trace_id=current_trace_id(),
            scenario=SCENARIO,
            fields=("population.face_encoding",),
        )
    )
    return status, data if isinstance(data, dict) else {}
