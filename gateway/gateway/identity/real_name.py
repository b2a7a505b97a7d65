"""Real-name binding (实名核验) attempts: the rate limit and the lockout that stop the
binding route from being an oracle for name ↔ ID-number pairs.

Every attempt is counted twice: per account and per claimed ID number, so neither many
numbers from one account nor one number from many accounts gets far. ``max_failures``
mismatches within the failure window lock binding for that account (or that number)
for the lockout. The ID number appears in keys only as its keyed blind index, the
account only as a digest. State lives in the gateway's key-value store (Redis in the
distributed run), so every gateway instance sees the same counts; lock expiry follows
the injectable ``clock``.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.audit.access_log import AccessRecorder
from gateway.identity import accounts
from gateway.identity.lockout import LockedOut, Lockout
from gateway.identity.principal import Principal
from gateway.identity.sessions import SessionStore, TokenPair
from gateway.models import CitizenAccount
from gateway.routing.authorisation import REAL_NAME_SCENARIO, Authoriser
from gateway.routing.ratelimit import count_in_minute
from gateway.schemas import RealNameBody
from yiwang_platform.errors import ProblemError
from yiwang_platform.pii import PiiCipher

REAL_NAME_PATH = "/api/v1/auth/real-name"


class RealNameMismatch(ProblemError):
    def __init__(self) -> None:
        super().__init__(
            422, "real_name_mismatch", "身份信息核验未通过", title_en="Identity not confirmed"
        )


REAL_NAME_LOCKED = LockedOut(
    429,
    "real_name_locked",
    ("实名核验失败次数过多，请稍后再试", "Real-name binding locked"),
    "failed attempts",
)


class RealNameAttempts:
    def __init__(self, lockout: Lockout) -> None:
        self.lockout = lockout

    @staticmethod
    def _counted(account: str, id_index: str) -> list[str]:
        return [
            "account:" + hashlib.sha256(account.encode()).hexdigest()[:32],
            f"id:{id_index}",
        ]

    async def admit(self, *, account: str, id_index: str, per_minute: int) -> None:
        """Refuse (429) while the account or the number is locked, else count the attempt
        in this minute's window and refuse once over ``per_minute``."""
        now = self.lockout.clock()
        counted = self._counted(account, id_index)
        for who in counted:
            until = await self.lockout.locked_until(who)
            if until is not None and until > now:
                retry_after = max(1, math.ceil(until - now))
                raise REAL_NAME_LOCKED.error(retry_after, retry_after_seconds=retry_after)
        await count_in_minute(
            self.lockout.kv,
            [f"real-name:rate:{who}" for who in counted],
            limit=per_minute,
            now=now,
            detail=f"at most {per_minute} real-name attempts per minute",
        )

    async def failed(self, *, account: str, id_index: str) -> None:
        """Count a mismatch; the ``max_failures``-th within the window locks."""
        for who in self._counted(account, id_index):
            await self.lockout.failed(who)

    async def succeeded(self, *, account: str, id_index: str) -> None:
        for who in self._counted(account, id_index):
            await self.lockout.succeeded(who)


@dataclass(frozen=True)
class RealNameBinding:
    attempts: RealNameAttempts
    authoriser: Authoriser
    recorder: AccessRecorder
    sign_ins: SessionStore
    cipher: PiiCipher

    async def confirm(self, principal: Principal, *, id_number: str, name: str) -> None:
        """Admit the attempt, then 核验 the name for the ID number under the
        ``real-name-binding`` policy; RealNameMismatch (422) when the library disagrees."""
        account, id_index = principal.subject, self.cipher.blind_index(id_number)
        decision = self.authoriser.real_name_decision(principal)
        default = self.authoriser.limiter.default_per_minute
        await self.attempts.admit(
            account=account, id_index=id_index, per_minute=decision.rate or default
        )
        answers = await self.authoriser.verify_identity(
            decision, id_number=id_number, claims={"name": name}
        )
        if not answers.get("name"):
            await self.attempts.failed(account=account, id_index=id_index)
            raise RealNameMismatch()
        await self.attempts.succeeded(account=account, id_index=id_index)

    async def bind(
        self, session: AsyncSession, principal: Principal, *, claim: RealNameBody
    ) -> TokenPair:
        """Bind the citizen's account to the claimed ID number once the library confirms
        the name for it; a new session (L2) replaces the caller's. Every attempt is
        audited, its outcome as the reason; never the number or the name."""
        if principal.principal_type != "citizen" or not principal.subject.startswith("acct:"):
            raise ProblemError(
                409, "already_bound", "已完成实名认证", title_en="Already real-name bound"
            )
        try:
            id_number = accounts.check_id_number(claim.id_number)
            await self.confirm(principal, id_number=id_number, name=claim.name)
            account_id = principal.subject.removeprefix("acct:")
            async with session.begin():
                account = await session.get(CitizenAccount, account_id)
                if account is None:
                    raise ProblemError(
                        401, "unauthenticated", "未认证或凭证无效", "account not found"
                    )
                await accounts.bind_real_name(
                    session, self.cipher, account=account, id_number=id_number
                )
        except ProblemError as problem:
            verified = problem.code in ("real_name_mismatch", "id_number_bound")
            await self._audit(
                principal, status=problem.status, reason=problem.code, verified=verified
            )
            raise
        await self._audit(principal, status=200, reason=None, verified=True)
        if principal.session_id:
            await self.sign_ins.revoke(principal.session_id)
        return await self.sign_ins.start(
            accounts.citizen_principal(account, self.cipher), account.id
        )

    async def _audit(
        self, principal: Principal, *, status: int, reason: str | None, verified: bool
    ) -> None:
        """A binding attempt, as a decision on the library's name field."""
        await self.recorder.record_decision(
            principal,
            service="data-exchange",
            method="POST",
            path=REAL_NAME_PATH,
            status=status,
            decision="allowed" if verified else "refused",
            reason=reason,
            scenario=REAL_NAME_SCENARIO,
            fields=["population.name"] if verified else [],
        )
