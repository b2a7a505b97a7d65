"""Access tokens: EdDSA JWTs with a ``kid``, published as a JWKS.

Signing keys live in the gateway's database (encrypted), so every replica signs
and verifies with the same set. ``rotate`` adds a key and retires the old one,
which keeps verifying until the tokens it signed have expired (the grace), so a
rotation never logs anyone out.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.identity.principal import Principal
from gateway.models import SigningKey
from yiwang_platform.expiring import ExpiringCache
from yiwang_platform.pii import PiiCipher

log = logging.getLogger(__name__)

ALGORITHM = "EdDSA"
VERIFIED_SECONDS = 30.0
VERIFIED_CACHE_SIZE = 4096
AUDIENCE = "yiwang-api"


class InvalidToken(Exception):
    """Not a valid access token; the message is a short reason safe to return."""


@dataclass(frozen=True)
class _Key:
    kid: str
    private: Ed25519PrivateKey
    created_at: datetime
    retired_at: datetime | None
    # Derived once: deriving it per verified token cost ~0.05 ms.
    public: Ed25519PublicKey = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "public", self.private.public_key())


class Keyring:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], cipher: PiiCipher, *, grace: timedelta
    ) -> None:
        self._sessions = sessions
        self._cipher = cipher
        self.grace = grace
        self._keys: list[_Key] = []
        self._loaded_at = 0.0

    async def load(self) -> None:
        """Read the keys; create the first one when there is none."""
        async with self._sessions() as session:
            rows = list(
                (await session.scalars(select(SigningKey).order_by(SigningKey.created_at))).all()
            )
        if not any(r.retired_at is None for r in rows):
            await self._add_key()
            async with self._sessions() as session:
                rows = list(
                    (
                        await session.scalars(select(SigningKey).order_by(SigningKey.created_at))
                    ).all()
                )
        self._keys = [
            _Key(r.kid, self._private(r.private_key_enc), r.created_at, r.retired_at) for r in rows
        ]
        self._loaded_at = time.monotonic()

    async def refresh_if_stale(self, max_age: float = 30.0) -> None:
        """Pick up rotations made by other replicas."""
        if time.monotonic() - self._loaded_at > max_age:
            await self.load()

    def _private(self, encrypted: str) -> Ed25519PrivateKey:
        key = serialization.load_pem_private_key(self._cipher.decrypt(encrypted).encode(), None)
        assert isinstance(key, Ed25519PrivateKey)
        return key

    async def _add_key(self) -> str:
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        kid = uuid.uuid4().hex[:16]
        now = datetime.now(UTC)
        try:
            async with self._sessions() as session, session.begin():
                await session.execute(
                    update(SigningKey).where(SigningKey.retired_at.is_(None)).values(retired_at=now)
                )
                session.add(
                    SigningKey(kid=kid, private_key_enc=self._cipher.encrypt(pem), created_at=now)
                )
        except IntegrityError:
            log.info("another replica added a signing key first")
        return kid

    async def rotate(self) -> str:
        kid = await self._add_key()
        await self.load()
        return kid

    def signing_key(self) -> _Key:
        active = [k for k in self._keys if k.retired_at is None]
        if not active:
            raise RuntimeError("no active signing key; call load() first")
        return active[-1]

    def verification_key(self, kid: str) -> Ed25519PublicKey:
        """The key that verifies tokens of ``kid``; InvalidToken once it is retired past
        the grace, or unknown."""
        now = datetime.now(UTC)
        for key in self._keys:
            if key.kid == kid:
                if key.retired_at is not None and now > key.retired_at + self.grace:
                    raise InvalidToken("signing key retired")
                return key.public
        raise InvalidToken("unknown signing key")

    def jwks(self) -> dict[str, Any]:
        now = datetime.now(UTC)
        keys = []
        for key in self._keys:
            if key.retired_at is not None and now > key.retired_at + self.grace:
                continue
            jwk = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(key.private.public_key()))
            jwk.update(kid=key.kid, use="sig", alg=ALGORITHM)
            keys.append(jwk)
        return {"keys": keys}


class AccessTokens:
    def __init__(self, keyring: Keyring, cipher: PiiCipher, *, issuer: str, ttl: timedelta) -> None:
        self.keyring = keyring
        self.cipher = cipher
        self.issuer = issuer
        self.ttl = ttl
        # token -> (kid, principal): a checked token is not checked again (signature,
        # subject decryption: ~0.2 ms) for up to VERIFIED_SECONDS, within its expiry. No
        # longer than the keyring takes to notice a rotation elsewhere; revocation is
        # asked per request all the same.
        self._verified: ExpiringCache[str, tuple[str, Principal]] = ExpiringCache(
            VERIFIED_CACHE_SIZE
        )

    def issue(self, principal: Principal, account_id: str) -> str:
        key = self.keyring.signing_key()
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": AUDIENCE,
            "sub": account_id,
            # The subject may be an ID number: only the gateway can read it.
            "sube": self.cipher.encrypt(principal.subject),
            "ptype": principal.principal_type,
            "roles": list(principal.roles),
            "acr": principal.acr,
            "sid": principal.session_id,
            "kidc": principal.key_id,
            "iat": now,
            "exp": now + int(self.ttl.total_seconds()),
            "jti": uuid.uuid4().hex,
        }
        if principal.department:
            claims["dept"] = principal.department
        if principal.scopes:
            claims["scope"] = " ".join(principal.scopes)
        return jwt.encode(claims, key.private, algorithm=ALGORITHM, headers={"kid": key.kid})

    def verify(self, token: str) -> Principal:
        now = time.time()
        cached = self._verified.get(token, now=now)
        if cached is not None:
            kid, principal = cached
            self.keyring.verification_key(kid)  # its key may have been retired since
            return principal
        principal, kid, expiry = self._verify(token)
        self._verified.put(token, (kid, principal), until=min(expiry, now + VERIFIED_SECONDS))
        return principal

    def _verify(self, token: str) -> tuple[Principal, str, float]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidToken("malformed token") from exc
        if header.get("alg") != ALGORITHM:
            raise InvalidToken("algorithm not allowed")
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise InvalidToken("kid missing")
        public = self.keyring.verification_key(kid)
        try:
            claims = jwt.decode(
                token,
                public,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=self.issuer,
                options={"require": ["exp", "iat", "sub", "aud", "iss", "jti"]},
                leeway=5,
            )
        except jwt.ExpiredSignatureError as exc:
            raise InvalidToken("token expired") from exc
        except jwt.PyJWTError as exc:
            raise InvalidToken("token rejected") from exc
        try:
            subject = self.cipher.decrypt(claims["sube"])
        except Exception as exc:
            raise InvalidToken("token rejected") from exc
        principal = Principal(
            subject=subject,
            principal_type=str(claims.get("ptype")),
            roles=tuple(claims.get("roles") or ()),
            key_id=str(claims.get("kidc") or ""),
            acr=str(claims.get("acr") or "L1"),
            session_id=claims.get("sid"),
            department=claims.get("dept"),
            scopes=tuple(str(claims.get("scope") or "").split()),
            extra={"account_id": str(claims["sub"]), "jti": str(claims["jti"])},
        )
        return principal, kid, float(claims["exp"])
