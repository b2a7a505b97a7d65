"""The internal token: a short-lived EdDSA JWT the gateway mints for each forwarded
request (audience = target service). Services trust nothing else.

This module has the verifier every service uses and the signer the gateway
(and tests) use. Keys are Ed25519, published as a JWKS with a ``kid`` so they
rotate without downtime: the verifier accepts every key in its set.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt import PyJWK

from yiwang_platform.expiring import ExpiringCache
from yiwang_platform.keyfiles import private_pem

ALGORITHM = "EdDSA"
DEFAULT_TTL_SECONDS = 60
LEEWAY_SECONDS = 5
# Tokens remembered per process, verified (services) or minted (the gateway): a signature
# or its check costs ~0.1 ms here, and a caller's repeated requests carry one token.
CACHE_SIZE = 4096


class InvalidInternalToken(Exception):
    """The token is missing, expired, for another audience or not signed by a known key."""


@dataclass(frozen=True)
class InternalPrincipal:
    subject: str
    principal_type: str
    audience: str
    scenario: str | None = None
    grant: dict[str, list[str]] = field(default_factory=dict)
    assurance: str | None = None
    claims: dict[str, Any] = field(default_factory=dict)


class InternalTokenSigner:
    def __init__(
        self, private_key: Ed25519PrivateKey, kid: str, issuer: str = "yiwang-gateway"
    ) -> None:
        self._key = private_key
        self.kid = kid
        self.issuer = issuer

    @classmethod
    def generate(cls, issuer: str = "yiwang-gateway") -> InternalTokenSigner:
        return cls(Ed25519PrivateKey.generate(), kid=uuid.uuid4().hex[:16], issuer=issuer)

    @classmethod
    def from_pem(
        cls, pem: str | bytes, kid: str, *, issuer: str = "yiwang-gateway"
    ) -> InternalTokenSigner:
        key = serialization.load_pem_private_key(
            pem if isinstance(pem, bytes) else pem.encode(), None
        )
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("internal token key must be Ed25519")
        return cls(key, kid, issuer)

    def private_pem(self) -> str:
        return private_pem(self._key)

    def public_jwk(self) -> dict[str, Any]:
        jwk: dict[str, Any] = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(self._key.public_key()))
        jwk.update(kid=self.kid, use="sig", alg=ALGORITHM)
        return jwk

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.public_jwk()]}

    def mint(
        self,
        audience: str | list[str],
        subject: str,
        *,
        principal_type: str,
        ttl: int = DEFAULT_TTL_SECONDS,
        **claims: Any,
    ) -> str:
        now = int(time.time())
        payload = {
            "iss": self.issuer,
            "aud": audience,
            "sub": subject,
            "ptype": principal_type,
            "iat": now,
            "exp": now + ttl,
            "jti": uuid.uuid4().hex,
            **claims,
        }
        return jwt.encode(payload, self._key, algorithm=ALGORITHM, headers={"kid": self.kid})


class TokenCache:
    """The signer's tokens, one per distinct set of claims, reused while at least half
    their lifetime is left: a caller's repeated requests carry the same internal token, so
    neither the gateway signs nor the service verifies it again (~0.1 ms each here). The
    claims (subject, scenario, grant, binding) are the whole decision, so one token stands
    for exactly the requests that were decided the same way."""

    def __init__(
        self,
        signer: InternalTokenSigner,
        *,
        size: int = CACHE_SIZE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.signer = signer
        self.clock = clock
        self._tokens: ExpiringCache[str, str] = ExpiringCache(size)

    def mint(
        self,
        audience: str | list[str],
        subject: str,
        *,
        principal_type: str,
        ttl: int = DEFAULT_TTL_SECONDS,
        **claims: Any,
    ) -> str:
        key = json.dumps(
            [audience, subject, principal_type, ttl, claims], sort_keys=True, default=str
        )
        now = self.clock()
        cached = self._tokens.get(key, now=now)
        if cached is not None:
            return cached
        token = self.signer.mint(
            audience, subject, principal_type=principal_type, ttl=ttl, **claims
        )
        self._tokens.put(key, token, until=now + ttl / 2)
        return token


def load_jwks(value: str) -> dict[str, Any]:
    """A JWKS given inline as JSON or as a path to a JSON file."""
    value = value.strip()
    if not value:
        return {"keys": []}
    if value.startswith("{"):
        return dict(json.loads(value))
    return dict(json.loads(Path(value).read_text()))


class InternalTokenVerifier:
    def __init__(
        self,
        jwks: dict[str, Any],
        issuer: str = "yiwang-gateway",
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._keys = {k["kid"]: PyJWK(k, algorithm=ALGORITHM) for k in jwks.get("keys", [])}
        self.issuer = issuer
        self.clock = clock
        # (token, audience) -> principal; only tokens that passed every check.
        self._verified: ExpiringCache[tuple[str, str], InternalPrincipal] = ExpiringCache(
            CACHE_SIZE
        )

    def verify(self, token: str, audience: str) -> InternalPrincipal:
        cached = self._verified.get((token, audience), now=self.clock())
        if cached is not None:
            return cached
        principal = self._verify(token, audience)
        # The same expiry (and leeway) the full check applies.
        expiry = float(principal.claims["exp"]) + LEEWAY_SECONDS
        self._verified.put((token, audience), principal, until=expiry)
        return principal

    def _verify(self, token: str, audience: str) -> InternalPrincipal:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            key = self._keys.get(kid) if kid else None
            if key is None:
                raise InvalidInternalToken("unknown signing key")
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=audience,
                issuer=self.issuer,
                # Expiry is checked below, on the verifier's clock (the cache's too).
                options={"require": ["exp", "iat", "sub", "aud", "iss"], "verify_exp": False},
                leeway=LEEWAY_SECONDS,
            )
        except jwt.PyJWTError as exc:
            raise InvalidInternalToken(str(exc)) from exc
        if not isinstance(claims["exp"], int | float) or isinstance(claims["exp"], bool):
            raise InvalidInternalToken("Expiration Time claim (exp) must be a number")
        if claims["exp"] + LEEWAY_SECONDS <= self.clock():
            raise InvalidInternalToken("Signature has expired")
        return InternalPrincipal(
            subject=claims["sub"],
            principal_type=claims.get("ptype", "unknown"),
            audience=audience,
            scenario=claims.get("scn"),
            grant=claims.get("grant") or {},
            assurance=claims.get("acr"),
            claims=claims,
        )
