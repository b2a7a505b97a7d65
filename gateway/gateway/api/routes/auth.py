"""/api/v1/auth: sign-up and sign-in, tokens, real-name binding, sign-out, and
``/.well-known/jwks.json``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Response

from gateway.api.deps import (
    CallerDep,
    CodesDep,
    KeyringDep,
    OperatorDep,
    RealNameBindingDep,
    SignInDep,
    SignInsDep,
)
from gateway.schemas import (
    CitizenSignIn,
    CitizenSignUp,
    PhoneBody,
    RealNameBody,
    StaffSignIn,
    Tokens,
)
from yiwang_platform.deps import SessionDep

router = APIRouter(tags=["authentication"])


@router.get(
    "/.well-known/jwks.json", summary="Public keys of access tokens", tags=["authentication"]
)
async def jwks(keyring: KeyringDep) -> dict[str, Any]:
    await keyring.refresh_if_stale()
    return keyring.jwks()


@router.post("/api/v1/auth/sms-codes", status_code=202, summary="Send a one-time code by SMS")
async def send_code(body: PhoneBody, codes: CodesDep) -> dict[str, bool]:
    await codes.send(body.phone)
    return {"sent": True}


@router.post(
    "/api/v1/auth/citizens", status_code=201, response_model=Tokens, summary="Citizen sign-up"
)
async def citizen_sign_up(body: CitizenSignUp, session: SessionDep, sign_in: SignInDep) -> Tokens:
    return Tokens.of(await sign_in.citizen_sign_up(session, body))


@router.post(
    "/api/v1/auth/citizens/sessions",
    response_model=Tokens,
    summary="Citizen sign-in (code or password)",
)
async def citizen_sign_in(body: CitizenSignIn, session: SessionDep, sign_in: SignInDep) -> Tokens:
    return Tokens.of(await sign_in.citizen_sign_in(session, body))


@router.post(
    "/api/v1/auth/staff/sessions",
    response_model=Tokens,
    summary="Staff sign-in (password + personal key)",
)
async def staff_sign_in(body: StaffSignIn, session: SessionDep, sign_in: SignInDep) -> Tokens:
    return Tokens.of(await sign_in.staff_sign_in(session, body))


@router.post("/api/v1/auth/token", response_model=Tokens, summary="OAuth 2.0 token endpoint")
async def token(
    session: SessionDep,
    sign_in: SignInDep,
    grant_type: Annotated[str, Form()],
    refresh_token: Annotated[str | None, Form()] = None,
    client_assertion_type: Annotated[str | None, Form()] = None,
    client_assertion: Annotated[str | None, Form()] = None,
) -> Tokens:
    pair = await sign_in.grant_token(
        session,
        grant_type=grant_type,
        refresh_token=refresh_token,
        client_assertion_type=client_assertion_type,
        client_assertion=client_assertion,
    )
    return Tokens.of(pair)


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
    body: RealNameBody, session: SessionDep, caller: CallerDep, binding: RealNameBindingDep
) -> Tokens:
    return Tokens.of(await binding.bind(session, caller, claim=body))


@router.delete("/api/v1/auth/sessions/current", status_code=204, summary="Sign out")
async def sign_out(caller: CallerDep, sign_ins: SignInsDep) -> Response:
    if caller.session_id:
        await sign_ins.revoke(caller.session_id)
    return Response(status_code=204)


@router.post(
    "/api/v1/auth/signing-keys/rotation", summary="Rotate the access-token signing key (operators)"
)
async def rotate(caller: OperatorDep, keyring: KeyringDep) -> dict[str, str]:
    return {"kid": await keyring.rotate()}
