"""Face checks (人脸核验): one-time challenges bound to a session, and the lockout after
failed attempts. State lives in the gateway's key-value store (Redis in production),
so every gateway instance sees the same challenges and counts.

A challenge is consumed at most once: the first verification that presents it (with
its nonce, from its own session) claims it; a reused, expired, foreign or mistyped
challenge is refused before any image is compared. Subjects appear in keys only as
a SHA-256 digest, never as the ID number itself.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from stdnum.cn import ric

from gateway.audit.access_log import AccessRecorder
from gateway.identity.lockout import LockedOut, Lockout
from gateway.identity.principal import Principal
from gateway.identity.sessions import SessionStore
from gateway.routing.calls import Services, call_service
from gateway.routing.upstreams import UpstreamUnavailable
from gateway.schemas import VerificationBody
from yiwang_platform.errors import ProblemError

SCENARIO = "face-check"
MATCH_PATH = "/api/v1/data-exchange/faces/match"
# What data-exchange may answer about a probe or a reference, passed on as it is.
_PASSED_ON = {"no_reference_face", "no_face", "several_faces", "unreadable_image"}


@dataclass(frozen=True)
class Challenge:
    challenge_id: str
    nonce: str
    expires_at: datetime


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _binding(principal: Principal) -> str:
    """What a challenge is bound to: the sign-in session, else (API-key callers) the key."""
    return f"session:{principal.session_id}" if principal.session_id else f"key:{principal.key_id}"


def require_real_name(principal: Principal) -> None:
    """Face checks compare with the population library's reference: only for citizens
    whose subject is their resident ID number (real-name bound)."""
    if principal.principal_type != "citizen" or not ric.is_valid(principal.subject):
        raise ProblemError(
            403,
            "real_name_required",
            "需要先完成实名认证",
            "face checks are for citizens bound to their resident ID number",
            title_en="Real-name binding required",
        )


def require_session(principal: Principal) -> None:
    if not principal.session_id:
        raise ProblemError(
            400,
            "session_required",
            "需要登录会话",
            "face checks raise a sign-in session; sign in with a token first",
            title_en="A sign-in session is required",
        )


def _challenge_used() -> ProblemError:
    return ProblemError(
        409,
        "challenge_used",
        "该核验挑战已使用",
        "a challenge is good for one verification; request a new one",
        title_en="Challenge already used",
    )


def _challenge_refused(code: str, zh: str, *, detail: str, title_en: str) -> ProblemError:
    return ProblemError(400, code, zh, detail, title_en=title_en)


FACE_LOCKED = LockedOut(
    423,
    "face_locked",
    ("人脸核验失败次数过多，请稍后再试", "Face checks locked"),
    "failed face checks",
)


class FaceChecks:
    def __init__(self, lockout: Lockout, *, challenge_seconds: float) -> None:
        self.kv = lockout.kv
        self.lockout = lockout
        self.challenge_seconds = challenge_seconds

    # ---- lockout ------------------------------------------------------------------------

    async def check_not_locked(self, principal: Principal) -> None:
        until = await self.lockout.locked_until(_digest(principal.subject))
        if until is None:
            return
        retry_after = max(1, int(until - time.time()))
        raise FACE_LOCKED.error(retry_after)

    async def record_failure(self, principal: Principal) -> int:
        """Count a failed comparison; the ``max_failures``-th within the window locks."""
        return await self.lockout.failed(_digest(principal.subject))

    async def record_success(self, principal: Principal) -> None:
        await self.lockout.succeeded(_digest(principal.subject))

    # ---- challenges ---------------------------------------------------------------------

    async def issue(self, principal: Principal) -> Challenge:
        challenge = Challenge(
            challenge_id=secrets.token_urlsafe(18),
            nonce=secrets.token_urlsafe(24),
            expires_at=datetime.fromtimestamp(time.time() + self.challenge_seconds, UTC),
        )
        state = {
            "nonce": _digest(challenge.nonce),
            "binding": _binding(principal),
            "subject": _digest(principal.subject),
            "expires_at": challenge.expires_at.timestamp(),
        }
        await self.kv.set(
            f"face:challenge:{challenge.challenge_id}",
            json.dumps(state),
            ttl_seconds=self.challenge_seconds,
        )
        return challenge

    async def consume(self, principal: Principal, *, challenge_id: str, nonce: str) -> None:
        """Claim the challenge for this verification, once; ProblemError otherwise."""
        key = f"face:challenge:{challenge_id}"
        used_key = f"face:used:{challenge_id}"
        if await self.kv.get(used_key) is not None:
            raise _challenge_used()
        raw = await self.kv.get(key)
        state = json.loads(raw) if raw else None
        if state is None or float(state["expires_at"]) <= time.time():
            raise _challenge_refused(
                "challenge_expired",
                "核验挑战不存在或已过期",
                detail="request a new challenge",
                title_en="Challenge unknown or expired",
            )
        if not (
            hmac.compare_digest(state["binding"], _binding(principal))
            and hmac.compare_digest(state["subject"], _digest(principal.subject))
        ):
            raise _challenge_refused(
                "challenge_foreign",
                "核验挑战不属于当前会话",
                detail="the challenge was issued to another session",
                title_en="Challenge of another session",
            )
        if not hmac.compare_digest(state["nonce"], _digest(nonce)):
            raise _challenge_refused(
                "challenge_mismatch",
                "核验挑战的随机数不符",
                detail="send the nonce issued with the challenge",
                title_en="Challenge nonce does not match",
            )
        remaining = max(1.0, float(state["expires_at"]) - time.time())
        # The first to claim wins, also between gateway instances.
        if not await self.kv.set(used_key, "1", ttl_seconds=remaining + 60, only_if_absent=True):
            raise _challenge_used()
        await self.kv.delete(key)


# ---- verification ---------------------------------------------------------------------


@dataclass(frozen=True)
class FaceVerification:
    match: bool
    score: float
    acr: str
    valid_until: datetime | None = None
    attempts_left: int | None = None


async def new_challenge(checks: FaceChecks, principal: Principal) -> Challenge:
    """A one-time challenge for a real-named citizen's session, unless locked."""
    require_real_name(principal)
    require_session(principal)
    await checks.check_not_locked(principal)
    return await checks.issue(principal)


@dataclass(frozen=True)
class FaceVerifier:
    checks: FaceChecks
    services: Services
    recorder: AccessRecorder
    sign_ins: SessionStore
    max_image_bytes: int

    async def verify(
        self, principal: Principal, verification: VerificationBody
    ) -> FaceVerification:
        """Consume the challenge, have data-exchange compare the selfie with the person's
        reference face; a match raises the session to L3, a non-match counts to the lock."""
        challenge_id, image = verification.challenge_id, verification.image
        require_real_name(principal)
        require_session(principal)
        if len(image) > (self.max_image_bytes + 2) // 3 * 4 + 4:
            raise ProblemError(
                413,
                "payload_too_large",
                "图像过大",
                f"the image may have at most {self.max_image_bytes} bytes",
                title_en="Image too large",
            )
        await self.checks.check_not_locked(principal)
        await self.checks.consume(principal, challenge_id=challenge_id, nonce=verification.nonce)

        status, answer = await _match(
            self.services, principal, recorder=self.recorder, challenge_id=challenge_id, image=image
        )
        if status == 200 and isinstance(answer.get("match"), bool):
            score = float(answer.get("score", 0.0))
            if not answer["match"]:
                failures = await self.checks.record_failure(principal)
                return FaceVerification(
                    match=False,
                    score=score,
                    acr=principal.acr,
                    attempts_left=max(0, self.checks.lockout.max_failures - failures),
                )
            await self.checks.record_success(principal)
            # The session store keeps the L3 mark that authentication reads.
            until = await self.sign_ins.mark_face_verified(principal.session_id)
            return FaceVerification(match=True, score=score, acr="L3", valid_until=until)
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


async def _match(
    services: Services,
    principal: Principal,
    *,
    recorder: AccessRecorder,
    challenge_id: str,
    image: str,
) -> tuple[int, dict[str, Any]]:
    """Ask data-exchange to compare the image with the caller's reference face; the
    comparison is audited as a read of the reference."""
    started = time.perf_counter()
    try:
        answer = await call_service(
            services,
            "data-exchange",
            method="POST",
            path=MATCH_PATH,
            subject=principal.subject,
            principal_type="citizen",
            ttl=services.token_ttl,
            claims={
                "scn": SCENARIO,
                "face_challenge": challenge_id,
                "acr": principal.acr,
                "roles": list(principal.roles),
                "kid_of_caller": principal.key_id,
            },
            body={"image": image},
        )
        status = answer.status
        try:
            data = json.loads(answer.body)
        except ValueError:
            data = {}
    except UpstreamUnavailable:
        status, data = 503, {}
    await recorder.record_decision(
        principal,
        service="data-exchange",
        method="POST",
        path=MATCH_PATH,
        status=status,
        decision="allowed",
        scenario=SCENARIO,
        fields=("population.face_encoding",),
        duration_ms=int((time.perf_counter() - started) * 1000),
    )
    return status, data if isinstance(data, dict) else {}
