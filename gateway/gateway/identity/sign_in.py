"""Signing up and in: each way in ends with a new sign-in session (access and refresh
token). Each database step ends its transaction before the session is started, which
writes in a transaction of its own (SQLite has one writer)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.identity import accounts
from gateway.identity.accounts import OneTimeCodes
from gateway.identity.sessions import SessionStore, TokenPair
from gateway.models import CitizenAccount
from gateway.schemas import CitizenSignIn, CitizenSignUp, StaffSignIn
from yiwang_platform.errors import ProblemError
from yiwang_platform.keyvalue import KeyValueStore
from yiwang_platform.pii import PiiCipher

# A password lock lasts this long, counted from the last failure.
PASSWORD_LOCK_SECONDS = 900


@dataclass(frozen=True)
class SignIn:
    sign_ins: SessionStore
    codes: OneTimeCodes
    kv: KeyValueStore
    cipher: PiiCipher
    # Wrong passwords in a row that lock a citizen's password sign-in.
    password_attempts: int
    # The token endpoint's URL: the audience of machines' client assertions.
    token_endpoint: str

    async def citizen_sign_up(self, session: AsyncSession, sign_up: CitizenSignUp) -> TokenPair:
        await self.codes.consume(sign_up.phone, sign_up.code)
        async with session.begin():
            account = await accounts.sign_up_citizen(
                session, self.cipher, phone=sign_up.phone, password=sign_up.password
            )
        return await self._start(account)

    async def citizen_sign_in(self, session: AsyncSession, credentials: CitizenSignIn) -> TokenPair:
        """By one-time code or by password; ``password_attempts`` wrong passwords lock."""
        phone, code, password = credentials.phone, credentials.code, credentials.password
        accounts.check_phone(phone)
        account: CitizenAccount | None
        if code is not None:
            await self.codes.consume(phone, code)
            async with session.begin():
                account = await accounts.citizen_by_phone(session, self.cipher, phone=phone)
            if account is None:
                raise ProblemError(
                    401, "invalid_credentials", "账号或凭证不正确", "no account for this phone"
                )
        elif password is not None:
            failures_key = f"password-failures:{self.cipher.blind_index(phone)}"
            failures = await self.kv.get(failures_key)
            if failures is not None and int(failures) >= self.password_attempts:
                raise ProblemError(
                    429,
                    "account_locked",
                    "密码错误次数过多，请稍后再试",
                    headers={"Retry-After": str(PASSWORD_LOCK_SECONDS)},
                )
            async with session.begin():
                account = await accounts.citizen_by_phone(session, self.cipher, phone=phone)
            if not accounts.password_matches(account.password_hash if account else None, password):
                await self.kv.increment(failures_key, PASSWORD_LOCK_SECONDS)
                raise ProblemError(
                    401, "invalid_credentials", "账号或凭证不正确", "phone or password wrong"
                )
            await self.kv.delete(failures_key)
        else:
            raise ProblemError(
                422,
                "credentials_missing",
                "请提供验证码或密码",
                title_en="Code or password required",
            )
        assert account is not None
        return await self._start(account)

    async def _start(self, account: CitizenAccount) -> TokenPair:
        principal = accounts.citizen_principal(account, self.cipher)
        return await self.sign_ins.start(principal, account.id)

    async def staff_sign_in(self, session: AsyncSession, credentials: StaffSignIn) -> TokenPair:
        async with session.begin():
            principal = await accounts.authenticate_staff(
                session,
                credentials.staff_id,
                password=credentials.password,
                personal_key=credentials.personal_key,
            )
        return await self.sign_ins.start(principal, f"staff:{principal.subject}")

    async def grant_token(
        self,
        session: AsyncSession,
        *,
        grant_type: str,
        refresh_token: str | None,
        client_assertion_type: str | None,
        client_assertion: str | None,
    ) -> TokenPair:
        """The OAuth 2.0 token endpoint: a refresh, or a machine's signed client assertion."""
        if grant_type == "refresh_token" and refresh_token:
            return await self.sign_ins.refresh(refresh_token)
        if grant_type == "client_credentials":
            assertion = client_assertion
            if client_assertion_type != accounts.CLIENT_ASSERTION_TYPE or not assertion:
                raise ProblemError(
                    400, "invalid_request", "请求有误", "a signed client assertion is required"
                )
            async with session.begin():
                principal = await accounts.authenticate_client(
                    session, self.kv, assertion=assertion, token_endpoint=self.token_endpoint
                )
            # Machines get no refresh token: they sign a new assertion instead.
            pair = await self.sign_ins.start(principal, f"client:{principal.subject}")
            return replace(pair, refresh_token=None)
        raise ProblemError(
            400, "unsupported_grant_type", "不支持的授权类型", title_en="Unsupported grant type"
        )
