"""The check every request passes: a Bearer access token (people and machines) or, for
operators' tools, an API key."""

from __future__ import annotations

from dataclasses import replace

from gateway.identity.api_keys import ApiKeyAuthenticator
from gateway.identity.principal import Principal
from gateway.identity.sessions import SessionStore
from gateway.identity.tokens import AccessTokens, InvalidToken, Keyring
from yiwang_platform.errors import ProblemError


def _unauthenticated(detail: str) -> ProblemError:
    return ProblemError(
        401,
        "unauthenticated",
        "未认证或凭证无效",
        detail,
        title_en="Not authenticated",
        headers={"WWW-Authenticate": 'Bearer realm="yiwang"'},
    )


async def authenticate(
    *,
    authorization: str,
    api_key: str,
    keyring: Keyring,
    tokens: AccessTokens,
    sign_ins: SessionStore,
    api_keys: ApiKeyAuthenticator,
) -> Principal:
    """The caller of a request with these ``Authorization`` and ``X-Api-Key`` headers."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() == "bearer" and token:
        await keyring.refresh_if_stale()
        try:
            principal = tokens.verify(token)
        except InvalidToken as exc:
            raise _unauthenticated(str(exc)) from exc
        revoked, face_verified = await sign_ins.state(principal.session_id)
        if revoked:
            raise _unauthenticated("session signed out or revoked")
        if principal.acr == "L2" and principal.principal_type == "citizen" and face_verified:
            principal = replace(principal, acr="L3")
        return principal
    if api_key:
        return api_keys.authenticate(api_key)
    raise _unauthenticated("Authorization: Bearer token missing")
