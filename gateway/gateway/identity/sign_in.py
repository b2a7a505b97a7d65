"""Signing up and in: each way in ends with a new sign-in session (access and refresh
token). Each database step ends its transaction before the session is started, which
writes in a transaction of its own (SQLite has one writer)."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.identity import accounts
from gateway.identity.accounts import OneTimeCodes
from gateway.identity.sessions import SessionStore, TokenPair
from gateway.models import CitizenAccount
from yiwang_platform.errors import ProblemError
from yiwang_platform.keyvalue import KeyValueStore
from yiwang_platform.pii import PiiCipher

# A password lock lasts this long, counted from the last failure.
PASSWORD_LOCK_SECONDS = 900


async def citizen_sign_up(
    session: AsyncSession,
    sign_ins: SessionStore,
    *,
    codes: OneTimeCodes,
    cipher: PiiCipher,
    phone: str,
    code: str,
    password: str | None,
) -> TokenPair:
    await codes.consume(phone, code)
    async with session.begin():
        account = await accounts.sign_up_citizen(session, cipher, phone=phone, password=password)
    return await sign_ins.start(accounts.citizen_principal(account, cipher), account.id)


async def citizen_sign_in(
    session: AsyncSession,
    sign_ins: SessionStore,
    *,
    codes: OneTimeCodes,
    kv: KeyValueStore,
    cipher: PiiCipher,
    password_attempts: int,
    phone: str,
    code: str | None,
    password: str | None,
) -> TokenPair:
    """By one-time code or by password; ``password_attempts`` wrong passwords lock."""
    accounts.check_phone(phone)
    account: CitizenAccount | None
    if code is not None:
        await codes.consume(phone, code)
        async with session.begin():
            account = await accounts.citizen_by_phone(session, cipher, phone=phone)
        if account is None:
            raise ProblemError(
                401, "invalid_credentials", "账号或凭证不正确", "no account for this phone"
            )
    elif password is not None:
        failures_key = f"password-failures:{cipher.blind_index(phone)}"
        failures = await kv.get(failures_key)
        if failures is not None and int(failures) >= password_attempts:
            raise ProblemError(
                429,
                "account_locked",
                "密码错误次数过多，请稍后再试",
                headers={"Retry-After": str(PASSWORD_LOCK_SECONDS)},
            )
        async with session.begin():
            account = await accounts.citizen_by_phone(session, cipher, phone=phone)
        if not accounts.password_matches(account.password_hash if account else None, password):
            await kv.increment(failures_key, PASSWORD_LOCK_SECONDS)
            raise ProblemError(
                401, "invalid_credentials", "账号或凭证不正确", "phone or password wrong"
            )
        await kv.delete(failures_key)
    else:
        raise ProblemError(
            422, "credentials_missing", "请提供验证码或密码", title_en="Code or password required"
        )
    assert account is not None
    return await sign_ins.start(accounts.citizen_principal(account, cipher), account.id)


async def staff_sign_in(
    session: AsyncSession,
    sign_ins: SessionStore,
    *,
    staff_id: str,
    password: str,
    personal_key: str,
) -> TokenPair:
    async with session.begin():
        principal = await accounts.authenticate_staff(
            session, staff_id, password=password, personal_key=personal_key
        )
    return await sign_ins.start(principal, f"staff:{principal.subject}")


async def grant_token(
    session: AsyncSession,
    sign_ins: SessionStore,
    *,
    kv: KeyValueStore,
    token_endpoint: str,
    grant_type: str,
    refresh_token: str | None,
    client_assertion_type: str | None,
    client_assertion: str | None,
) -> TokenPair:
    """The OAuth 2.0 token endpoint: a refresh, or a machine's signed client assertion."""
    if grant_type == "refresh_token" and refresh_token:
        return await sign_ins.refresh(refresh_token)
    if grant_type == "client_credentials":
        if client_assertion_type != accounts.CLIENT_ASSERTION_TYPE or not client_assertion:
            raise ProblemError(
                400, "invalid_request", "请求有误", "a signed client assertion is required"
            )
        async with session.begin():
            principal = await accounts.authenticate_client(
                session, kv, assertion=client_assertion, token_endpoint=token_endpoint
            )
        # Machines get no refresh token: they sign a new assertion instead.
        pair = await sign_ins.start(principal, f"client:{principal.subject}")
        return replace(pair, refresh_token=None)
    raise ProblemError(
        400, "unsupported_grant_type", "不支持的授权类型", title_en="Unsupported grant type"
    )
