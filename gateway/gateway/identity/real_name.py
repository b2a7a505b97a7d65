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
import time
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.audit.access_log import AccessRecorder
from gateway.identity import accounts
from gateway.identity.principal import Principal
from gateway.identity.sessions import SessionStore, TokenPair
from gateway.models import CitizenAccount
from gateway.routing.authorisation import REAL_NAME_SCENARIO, Authoriser
from yiwang_platform.errors import ProblemError
from yiwang_platform.keyvalue import KeyValueStore
from yiwang_platform.pii import PiiCipher

WINDOW_SECONDS = 60
REAL_NAME_PATH = "/api/v1/auth/real-name"


class RealNameMismatch(ProblemError):
    def __init__(self) -> None:
        super().__init__(
            422, "real_name_mismatch", "身份信息核验未通过", title_en="Identity not confirmed"
        )


class RealNameAttempts:
    def __init__(
        self,
        kv: KeyValueStore,
        *,
        max_failures: int,
        failure_window_seconds: float,
        lockout_seconds: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.kv = kv
        self.max_failures = max_failures
        self.failure_window_seconds = failure_window_seconds
        self.lockout_seconds = lockout_seconds
        self.clock = clock

    @staticmethod
    def _counted(account: str, id_index: str) -> list[tuple[str, str]]:
        return [
            ("account", hashlib.sha256(account.encode()).hexdigest()[:32]),
            ("id", id_index),
        ]

    async def admit(self, *, account: str, id_index: str, per_minute: int) -> None:
        """Refuse (429) while the account or the number is locked, else count the attempt
        in this minute's window and refuse once over ``per_minute``."""
        now = self.clock()
        counted = self._counted(account, id_index)
        for kind, who in counted:
            until = await self.kv.get(f"real-name:locked:{kind}:{who}")
            if until is not None and float(until) > now:
                retry_after = max(1, math.ceil(float(until) - now))
                raise ProblemError(
                    429,
                    "real_name_locked",
                    "实名核验失败次数过多，请稍后再试",
                    f"too many failed attempts; try again in {retry_after} s",
                    title_en="Real-name binding locked",
                    headers={"Retry-After": str(retry_after)},
                    retry_after_seconds=retry_after,
                )
        window = int(now // WINDOW_SECONDS)
        retry_after = max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))
        for kind, who in counted:
            count = await self.kv.increment(
                f"real-name:rate:{kind}:{who}:{window}", WINDOW_SECONDS + 1
            )
            if per_minute > 0 and count > per_minute:
                raise ProblemError(
                    429,
                    "rate_limited",
                    "请求过于频繁，请稍后再试",
                    f"at most {per_minute} real-name attempts per minute",
                    title_en="Too many requests",
                    headers={"Retry-After": str(retry_after)},
                    limit_per_minute=per_minute,
                    retry_after_seconds=retry_after,
                )

    async def failed(self, *, account: str, id_index: str) -> None:
        """Count a mismatch; the ``max_failures``-th within the window locks."""
        for kind, who in self._counted(account, id_index):
            failures = await self.kv.increment(
                f"real-name:failures:{kind}:{who}", self.failure_window_seconds
            )
            if failures >= self.max_failures:
                until = self.clock() + self.lockout_seconds
                # The value decides (against the clock); the expiry only cleans up.
                await self.kv.set(
                    f"real-name:locked:{kind}:{who}", str(until), self.lockout_seconds + 60
                )
                await self.kv.delete(f"real-name:failures:{kind}:{who}")

    async def succeeded(self, *, account: str, id_index: str) -> None:
        for kind, who in self._counted(account, id_index):
            await self.kv.delete(f"real-name:failures:{kind}:{who}")


async def confirm(
    authoriser: Authoriser,
    attempts: RealNameAttempts,
    *,
    principal: Principal,
    id_number: str,
    id_index: str,
    name: str,
) -> None:
    """Admit the attempt, then 核验 the name for the ID number under the
    ``real-name-binding`` policy; RealNameMismatch (422) when the library disagrees."""
    decision = authoriser.real_name_decision(principal)
    default = authoriser.limiter.default_per_minute
    await attempts.admit(
        account=principal.subject, id_index=id_index, per_minute=decision.rate or default
    )
    answers = await authoriser.verify_identity(decision, id_number=id_number, claims={"name": name})
    if not answers.get("name"):
        await attempts.failed(account=principal.subject, id_index=id_index)
        raise RealNameMismatch()
    await attempts.succeeded(account=principal.subject, id_index=id_index)


async def bind(
    session: AsyncSession,
    principal: Principal,
    *,
    cipher: PiiCipher,
    attempts: RealNameAttempts,
    authoriser: Authoriser,
    recorder: AccessRecorder,
    sign_ins: SessionStore,
    id_number: str,
    name: str,
) -> TokenPair:
    """Bind the citizen's account to ``id_number`` once the library confirms ``name``
    for it; a new session (L2) replaces the caller's. Every attempt is audited, its
    outcome as the reason; never the number or the name."""
    if principal.principal_type != "citizen" or not principal.subject.startswith("acct:"):
        raise ProblemError(
            409, "already_bound", "已完成实名认证", title_en="Already real-name bound"
        )
    try:
        id_number = accounts.check_id_number(id_number)
        await confirm(
            authoriser,
            attempts,
            principal=principal,
            id_number=id_number,
            id_index=cipher.blind_index(id_number),
            name=name,
        )
        account_id = principal.subject.removeprefix("acct:")
        async with session.begin():
            account = await session.get(CitizenAccount, account_id)
            if account is None:
                raise ProblemError(401, "unauthenticated", "未认证或凭证无效", "account not found")
            await accounts.bind_real_name(session, cipher, account=account, id_number=id_number)
    except ProblemError as problem:
        verified = problem.code in ("real_name_mismatch", "id_number_bound")
        await recorder.record_decision(
            principal,
            service="data-exchange",
            method="POST",
            path=REAL_NAME_PATH,
            status=problem.status,
            decision="allowed" if verified else "refused",
            reason=problem.code,
            scenario=REAL_NAME_SCENARIO,
            fields=["population.name"] if verified else [],
        )
        raise
    await recorder.record_decision(
        principal,
        service="data-exchange",
        method="POST",
        path=REAL_NAME_PATH,
        status=200,
        decision="allowed",
        scenario=REAL_NAME_SCENARIO,
        fields=["population.name"],
    )
    if principal.session_id:
        await sign_ins.revoke(principal.session_id)
    return await sign_ins.start(accounts.citizen_principal(account, cipher), account.id)
