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

from stdnum.cn import ric

from gateway.identity import Principal
from yiwang_platform.errors import ProblemError
from yiwang_platform.keyvalue import KeyValueStore

SCENARIO = "face-check"


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


def _problem(status: int, code: str, zh: str, en: str, detail: str) -> ProblemError:
    return ProblemError(status, code, zh, detail, title_en=en)


class FaceChecks:
    def __init__(
        self,
        kv: KeyValueStore,
        challenge_seconds: float,
        max_failures: int,
        failure_window_seconds: float,
        lockout_seconds: float,
    ) -> None:
        self.kv = kv
        self.challenge_seconds = challenge_seconds
        self.max_failures = max_failures
        self.failure_window_seconds = failure_window_seconds
        self.lockout_seconds = lockout_seconds

    # ---- lockout ------------------------------------------------------------------------

    async def check_not_locked(self, principal: Principal) -> None:
        until = await self.kv.get(f"face:locked:{_digest(principal.subject)}")
        if until is None:
            return
        retry_after = max(1, int(float(until) - time.time()))
        raise ProblemError(
            423,
            "face_locked",
            "人脸核验失败次数过多，请稍后再试",
            f"too many failed face checks; try again in {retry_after} s",
            title_en="Face checks locked",
            headers={"Retry-After": str(retry_after)},
        )

    async def record_failure(self, principal: Principal) -> int:
        """Count a failed comparison; the ``max_failures``-th within the window locks."""
        subject = _digest(principal.subject)
        failures = await self.kv.increment(f"face:failures:{subject}", self.failure_window_seconds)
        if failures >= self.max_failures:
            until = time.time() + self.lockout_seconds
            await self.kv.set(f"face:locked:{subject}", str(until), self.lockout_seconds)
            await self.kv.delete(f"face:failures:{subject}")
        return failures

    async def record_success(self, principal: Principal) -> None:
        await self.kv.delete(f"face:failures:{_digest(principal.subject)}")

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
            f"face:challenge:{challenge.challenge_id}", json.dumps(state), self.challenge_seconds
        )
        return challenge

    async def consume(self, principal: Principal, challenge_id: str, nonce: str) -> None:
        """Claim the challenge for this verification, once; ProblemError otherwise."""
        key = f"face:challenge:{challenge_id}"
        used_key = f"face:used:{challenge_id}"
        if await self.kv.get(used_key) is not None:
            raise _problem(
                409,
                "challenge_used",
                "该核验挑战已使用",
                "Challenge already used",
                "a challenge is good for one verification; request a new one",
            )
        raw = await self.kv.get(key)
        state = json.loads(raw) if raw else None
        if state is None or float(state["expires_at"]) <= time.time():
            raise _problem(
                400,
                "challenge_expired",
                "核验挑战不存在或已过期",
                "Challenge unknown or expired",
                "request a new challenge",
            )
        if not (
            hmac.compare_digest(state["binding"], _binding(principal))
            and hmac.compare_digest(state["subject"], _digest(principal.subject))
        ):
            raise _problem(
                400,
                "challenge_foreign",
                "核验挑战不属于当前会话",
                "Challenge of another session",
                "the challenge was issued to another session",
            )
        if not hmac.compare_digest(state["nonce"], _digest(nonce)):
            raise _problem(
                400,
                "challenge_mismatch",
                "核验挑战的随机数不符",
                "Challenge nonce does not match",
                "send the nonce issued with the challenge",
            )
        remaining = max(1.0, float(state["expires_at"]) - time.time())
        # The first to claim wins, also between gateway instances.
        if not await self.kv.set(used_key, "1", remaining + 60, only_if_absent=True):
            raise _problem(
                409,
                "challenge_used",
                "该核验挑战已使用",
                "Challenge already used",
                "a challenge is good for one verification; request a new one",
            )
        await self.kv.delete(key)
