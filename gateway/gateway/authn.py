"""Wiring of authentication into the gateway app, and the check every request passes:
a Bearer access token (people and machines) or, for operators' tools, an API key."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request

from gateway.accounts import OneTimeCodes
from gateway.identity import ApiKeyAuthenticator, Principal
from gateway.real_name import RealNameAttempts
from gateway.sessions import SessionStore
from gateway.settings import Settings
from gateway.sms import FileOutboxSms
from gateway.tokens import AccessTokens, InvalidToken, Keyring
from yiwang_platform.errors import ProblemError
from yiwang_platform.pii import PiiCipher


async def start_authentication(app: FastAPI, settings: Settings, runtime: Any) -> None:
    """Load signing keys and build the token, session and one-time-code services."""
    cipher = PiiCipher.from_settings(settings)
    ttl = timedelta(seconds=settings.access_token_ttl_seconds)
    keyring = Keyring(runtime.sessions, cipher, grace=ttl + timedelta(minutes=1))
    await keyring.load()
    tokens = AccessTokens(keyring, cipher, settings.token_issuer, ttl)
    app.state.cipher = cipher
    app.state.keyring = keyring
    app.state.tokens = tokens
    app.state.sessions = SessionStore(
        runtime.sessions,
        app.state.kv,
        cipher,
        tokens,
        refresh_ttl=timedelta(days=settings.refresh_token_ttl_days),
        face_window=timedelta(minutes=settings.face_window_minutes),
    )
    sms_path = (
        Path(settings.sms_outbox)
        if settings.sms_outbox
        else Path(settings.var_dir) / "sms-outbox.jsonl"
    )
    app.state.sms = FileOutboxSms(sms_path)
    app.state.codes = OneTimeCodes(app.state.kv, app.state.sms, cipher)
    app.state.password_attempts = settings.password_attempts
    app.state.real_name_attempts = RealNameAttempts(
        app.state.kv,
        max_failures=settings.real_name_max_failures,
        failure_window_seconds=settings.real_name_failure_window_seconds,
        lockout_seconds=settings.real_name_lockout_seconds,
    )
    app.state.token_endpoint_url = settings.token_endpoint_url


def _unauthenticated(detail: str) -> ProblemError:
    return ProblemError(
        401,
        "unauthenticated",
        "未认证或凭证无效",
        detail,
        title_en="Not authenticated",
        headers={"WWW-Authenticate": 'Bearer realm="yiwang"'},
    )


async def authenticate(request: Request) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token:
        state = request.app.state
        await state.keyring.refresh_if_stale()
        try:
            principal = state.tokens.verify(token)
        except InvalidToken as exc:
            raise _unauthenticated(str(exc)) from exc
        if await state.sessions.is_revoked(principal.session_id):
            raise _unauthenticated("session signed out or revoked")
        if principal.acr == "L2" and principal.principal_type == "citizen":
            if await state.sessions.face_verified(principal.session_id):
                principal = replace(principal, acr="L3")
        return principal
    if request.headers.get("x-api-key"):
        authenticator: ApiKeyAuthenticator = request.app.state.authenticator
        return authenticator.authenticate(request)
    raise _unauthenticated("Authorization: Bearer token missing")
