"""/api/v1/auth: sign-up and sign-in, tokens, real-name binding, sign-out, and
``/.well-known/jwks.json``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from gateway import accounts
from gateway.access_log import record_decision
from gateway.api.deps import CallerDep
from gateway.authorisation import REAL_NAME_SCENARIO
from gateway.identity_models import CitizenAccount
from gateway.real_name import confirm
from gateway.sessions import SessionStore, TokenPair
from yiwang_platform.deps import SessionDep
from yiwang_platform.errors import ProblemError
from yiwang_platform.pii import PiiCipher

router = APIRouter(tags=["authentication"])


class PhoneBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phone: str = Field(description="中国大陆手机号码")


class CitizenSignUp(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phone: str
    code: str = Field(pattern=r"^\d{6}$")
    password: str | None = Field(default=None, min_length=10, max_length=128)


class CitizenSignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phone: str
    code: str | None = Field(default=None, pattern=r"^\d{6}$")
    password: str | None = Field(default=None, max_length=128)


class StaffSignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    staff_id: str = Field(min_length=1, max_length=64)
    password: str = Field(max_length=128)
    personal_key: str = Field(min_length=16, max_length=200, description="专属密钥")


class RealNameBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id_number: str = Field(min_length=18, max_length=18)
    name: str = Field(min_length=1, max_length=50)


class Tokens(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int
    refresh_token: str | None = None
    acr: str


def _tokens(pair: TokenPair, with_refresh: bool = True) -> Tokens:
    return Tokens(
        access_token=pair.access_token,
        expires_in=pair.expires_in,
        refresh_token=pair.refresh_token if with_refresh else None,
        acr=pair.acr,
    )


def _state(request: Request) -> Any:
    return request.app.state


@router.get(
    "/.well-known/jwks.json", summary="Public keys of access tokens", tags=["authentication"]
)
async def jwks(request: Request) -> dict[str, Any]:
    await _state(request).keyring.refresh_if_stale()
    keys: dict[str, Any] = _state(request).keyring.jwks()
    return keys


@router.post("/api/v1/auth/sms-codes", status_code=202, summary="Send a one-time code by SMS")
async def send_code(body: PhoneBody, request: Request) -> dict[str, bool]:
    await _state(request).codes.send(body.phone)
    return {"sent": True}


@router.post(
    "/api/v1/auth/citizens", status_code=201, response_model=Tokens, summary="Citizen sign-up"
)
async def citizen_sign_up(body: CitizenSignUp, request: Request, session: SessionDep) -> Tokens:
    state = _state(request)
    await state.codes.consume(body.phone, body.code)
    async with session.begin():
        account = await accounts.sign_up_citizen(session, state.cipher, body.phone, body.password)
    return _tokens(
        await state.sessions.start(accounts.citizen_principal(account, state.cipher), account.id)
    )


@router.post(
    "/api/v1/auth/citizens/sessions",
    response_model=Tokens,
    summary="Citizen sign-in (code or password)",
)
async def citizen_sign_in(body: CitizenSignIn, request: Request, session: SessionDep) -> Tokens:
    state = _state(request)
    cipher: PiiCipher = state.cipher
    accounts.check_phone(body.phone)
    # Each read ends its transaction before a session is started (SQLite has one writer).
    if body.code is not None:
        await state.codes.consume(body.phone, body.code)
        async with session.begin():
            account = await accounts.citizen_by_phone(session, cipher, body.phone)
        if account is None:
            raise ProblemError(
                401, "invalid_credentials", "账号或凭证不正确", "no account for this phone"
            )
    elif body.password is not None:
        failures_key = f"password-failures:{cipher.blind_index(body.phone)}"
        failures = await state.kv.get(failures_key)
        if failures is not None and int(failures) >= request.app.state.password_attempts:
            raise ProblemError(
                429,
                "account_locked",
                "密码错误次数过多，请稍后再试",
                headers={"Retry-After": "900"},
            )
        async with session.begin():
            account = await accounts.citizen_by_phone(session, cipher, body.phone)
        if not accounts.password_matches(account.password_hash if account else None, body.password):
            await state.kv.increment(failures_key, 900)
            raise ProblemError(
                401, "invalid_credentials", "账号或凭证不正确", "phone or password wrong"
            )
        await state.kv.delete(failures_key)
    else:
        raise ProblemError(
            422, "credentials_missing", "请提供验证码或密码", title_en="Code or password required"
        )
    assert account is not None
    return _tokens(
        await state.sessions.start(accounts.citizen_principal(account, cipher), account.id)
    )


@router.post(
    "/api/v1/auth/staff/sessions",
    response_model=Tokens,
    summary="Staff sign-in (password + personal key)",
)
async def staff_sign_in(body: StaffSignIn, request: Request, session: SessionDep) -> Tokens:
    async with session.begin():
        principal = await accounts.authenticate_staff(
            session, body.staff_id, body.password, body.personal_key
        )
    return _tokens(await _state(request).sessions.start(principal, f"staff:{principal.subject}"))


@router.post("/api/v1/auth/token", response_model=Tokens, summary="OAuth 2.0 token endpoint")
async def token(
    request: Request,
    session: SessionDep,
    grant_type: Annotated[str, Form()],
    refresh_token: Annotated[str | None, Form()] = None,
    client_assertion_type: Annotated[str | None, Form()] = None,
    client_assertion: Annotated[str | None, Form()] = None,
) -> Tokens:
    state = _state(request)
    if grant_type == "refresh_token" and refresh_token:
        return _tokens(await state.sessions.refresh(refresh_token))
    if grant_type == "client_credentials":
        if client_assertion_type != accounts.CLIENT_ASSERTION_TYPE or not client_assertion:
            raise ProblemError(
                400, "invalid_request", "请求有误", "a signed client assertion is required"
            )
        async with session.begin():
            principal = await accounts.authenticate_client(
                session, state.kv, client_assertion, request.app.state.token_endpoint_url
            )
        # Machines get no refresh token: they sign a new assertion instead.
        pair = await state.sessions.start(principal, f"client:{principal.subject}")
        return _tokens(pair, with_refresh=False)
    raise ProblemError(
        400, "unsupported_grant_type", "不支持的授权类型", title_en="Unsupported grant type"
    )


@router.post(
    "/api/v1/auth/real-name",
    response_model=Tokens,
    summary="Bind a real name (核验, no disclosure)",
    responses={
        403: {"description": "the real-name-binding policy refuses the caller"},
        409: {"description": "already_bound, id_number_bound"},
        422: {"description": "id_number_invalid, real_name_mismatch"},
        429: {"description": "rate_limited, real_name_locked (Retry-After)"},
        503: {"description": "upstream_unavailable (Retry-After)"},
    },
)
async def real_name(
    body: RealNameBody, request: Request, session: SessionDep, caller: CallerDep
) -> Tokens:
    state = _state(request)
    if caller.principal_type != "citizen" or not caller.subject.startswith("acct:"):
        raise ProblemError(
            409, "already_bound", "已完成实名认证", title_en="Already real-name bound"
        )
    # Every attempt is audited, its outcome as the reason; never the number or the name.
    try:
        id_number = accounts.check_id_number(body.id_number)
        await confirm(
            state.forwarder,
            state.real_name_attempts,
            principal=caller,
            id_number=id_number,
            id_index=state.cipher.blind_index(id_number),
            name=body.name,
        )
        account_id = caller.subject.removeprefix("acct:")
        async with session.begin():
            account = await session.get(CitizenAccount, account_id)
            if account is None:
                raise ProblemError(401, "unauthenticated", "未认证或凭证无效", "account not found")
            await accounts.bind_real_name(session, state.cipher, account, id_number)
    except ProblemError as problem:
        verified = problem.code in ("real_name_mismatch", "id_number_bound")
        await record_decision(
            request,
            caller,
            service="data-exchange",
            status=problem.status,
            decision="allowed" if verified else "refused",
            reason=problem.code,
            scenario=REAL_NAME_SCENARIO,
            fields=["population.name"] if verified else [],
        )
        raise
    await record_decision(
        request,
        caller,
        service="data-exchange",
        status=200,
        decision="allowed",
        scenario=REAL_NAME_SCENARIO,
        fields=["population.name"],
    )
    sessions: SessionStore = state.sessions
    if caller.session_id:
        await sessions.revoke(caller.session_id)
    return _tokens(
        await sessions.start(accounts.citizen_principal(account, state.cipher), account.id)
    )


@router.delete("/api/v1/auth/sessions/current", status_code=204, summary="Sign out")
async def sign_out(request: Request, caller: CallerDep) -> Response:
    if caller.session_id:
        await _state(request).sessions.revoke(caller.session_id)
    return Response(status_code=204)


@router.post(
    "/api/v1/auth/signing-keys/rotation", summary="Rotate the access-token signing key (operators)"
)
async def rotate(request: Request, caller: CallerDep) -> dict[str, str]:
    if caller.principal_type != "operator":
        raise ProblemError(403, "forbidden", "无权访问", "key rotation is for operators")
    return {"kid": await _state(request).keyring.rotate()}
