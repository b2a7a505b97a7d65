"""The issuing department's electronic seal (电子印章): an Ed25519 signature over the
canonical JSON form of a license's content, so anyone holding the published public
key can tell whether a license was changed after it was issued.

Canonical form: JSON with sorted keys, no whitespace, ``ensure_ascii=False``, UTF-8.
Timestamps are RFC 3339 in UTC ending in ``Z``, so the signed text does not depend on
the zone a database hands back.

A second seal covers the license with each field replaced by a salted digest
(SD-JWT style): ``base64url(SHA-256(canonical JSON of [salt, name, value]))``. A holder
can then show some fields with their salts, and a verifier checks them against the
sealed digests without learning the others.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from license.settings import Settings
from yiwang_platform.internal_token import load_jwks

KEY_FILE = "seal.key"


def canonical_json(content: Any) -> bytes:
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def timestamp(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def sealed_content(
    *,
    license_id: str,
    license_type: str,
    holder_index: str,
    holder_name: str,
    fields: Mapping[str, str],
    issued_at: datetime,
    valid_until: datetime | None,
    issuer: str,
) -> dict[str, Any]:
    """Exactly what the seal covers."""
    return {
        "license_id": license_id,
        "license_type": license_type,
        "holder_index": holder_index,
        "holder_name": holder_name,
        "fields": dict(fields),
        "issued_at": timestamp(issued_at),
        "valid_until": timestamp(valid_until),
        "issuer": issuer,
    }


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def new_salt() -> str:
    return b64url(os.urandom(16))


def field_digest(disclosure: Sequence[str]) -> str:
    """The digest of one ``[salt, name, value]`` disclosure."""
    return b64url(hashlib.sha256(canonical_json(list(disclosure))).digest())


def disclosure_content(
    *,
    license_id: str,
    license_type: str,
    issuer: str,
    issued_at: datetime,
    valid_until: datetime | None,
    fields: Mapping[str, str],
    salts: Mapping[str, str],
) -> dict[str, Any]:
    """What the disclosure seal covers: the license with only salted digests of its
    fields, sorted so their order tells nothing."""
    return {
        "typ": "yiwang-license-sd",
        "license_id": license_id,
        "license_type": license_type,
        "issuer": issuer,
        "issued_at": timestamp(issued_at),
        "valid_until": timestamp(valid_until),
        "digests": sorted(field_digest((salts[n], n, v)) for n, v in fields.items()),
    }


def verify_signature(
    public_key: Ed25519PublicKey, content: Mapping[str, Any], *, signature: str
) -> bool:
    try:
        raw = base64.b64decode(signature, validate=True)
        # Only the canonical encoding: otherwise unused trailing bits could change
        # without the signature noticing.
        if base64.b64encode(raw).decode() != signature:
            return False
        public_key.verify(raw, canonical_json(content))
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def key_id(public_key: Ed25519PublicKey) -> str:
    """Derived from the key itself, so the same key always has the same id."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_jwk(public_key: Ed25519PublicKey, status: str) -> dict[str, str]:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": b64url(raw),
        "kid": key_id(public_key),
        "use": "sig",
        "alg": "EdDSA",
        "status": status,
    }


def public_key_from_jwk(jwk: Mapping[str, Any]) -> Ed25519PublicKey:
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        raise ValueError("seal keys must be Ed25519 (OKP) JWKs")
    x = str(jwk["x"])
    return Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(x + "=" * (-len(x) % 4)))


def load_private_key(pem: str | bytes) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem if isinstance(pem, bytes) else pem.encode(), None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("the seal key must be Ed25519")
    return key


def private_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _key_file(path: Path) -> bytes:
    """The standalone run's seal key, created on first use and kept for later runs."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_bytes()  # another process created it first
        with os.fdopen(fd, "wb") as f:
            f.write(private_pem(Ed25519PrivateKey.generate()))
    return path.read_bytes()


class SealKeyring:
    """The issuer's current seal key (signs) plus retired public keys (still verify)."""

    def __init__(
        self,
        issuer: str,
        signing_key: Ed25519PrivateKey,
        retired: Iterable[Ed25519PublicKey] = (),
    ) -> None:
        self.issuer = issuer
        self._signing_key = signing_key
        self.key_id = key_id(signing_key.public_key())
        self._public: dict[str, Ed25519PublicKey] = {self.key_id: signing_key.public_key()}
        for key in retired:
            self._public.setdefault(key_id(key), key)

    @classmethod
    def from_settings(cls, settings: Settings) -> SealKeyring:
        configured = settings.seal_private_key.strip()
        if configured.startswith("-----BEGIN"):
            pem = configured.encode()
        elif configured:
            pem = Path(configured).read_bytes()
        elif settings.environment == "distributed":
            raise RuntimeError("YIWANG_SEAL_PRIVATE_KEY must be set in the distributed run")
        else:
            pem = _key_file(Path(settings.var_dir) / KEY_FILE)
        retired = load_jwks(settings.seal_retired_public_keys)["keys"]
        return cls(
            settings.seal_issuer, load_private_key(pem), [public_key_from_jwk(k) for k in retired]
        )

    def sign(self, content: Mapping[str, Any]) -> str:
        """Base64 of the Ed25519 signature over the canonical form of ``content``."""
        return base64.b64encode(self._signing_key.sign(canonical_json(content))).decode()

    def verify(self, content: Mapping[str, Any], signature: str, *, key_id: str) -> bool:
        found = self._public.get(key_id)
        if found is None:
            return False
        return verify_signature(found, content, signature=signature)

    def jwks(self) -> list[dict[str, str]]:
        return [
            public_jwk(key, "active" if kid == self.key_id else "retired")
            for kid, key in self._public.items()
        ]
