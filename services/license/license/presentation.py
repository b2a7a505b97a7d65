"""Showing a license (亮证) with selective disclosure, and checking a shown license.

A presentation is the base64url of one canonical JSON document:

- ``credential``: the license as its disclosure seal covers it — type, issuer, dates
  and the sorted salted digests of all its fields (``seal.disclosure_content``), with
  ``seal`` = the issuer's key id and signature made when the license was issued;
- ``disclosures``: ``[salt, name, value]`` of the chosen fields only;
- ``binding``: the license service's statement, made after it authenticated the
  holder, that the holder shows these disclosures of this credential from ``iat``
  until ``exp`` — signed with the current seal key (``binding_seal``).

``verify_offline`` checks all of it with the published public keys alone. Whether
the license was revoked since is the one thing it cannot know; the online check adds it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, ValidationError

from license.seal import (
    SealKeyring,
    b64url,
    canonical_json,
    field_digest,
    public_key_from_jwk,
    timestamp,
    verify_signature,
)

VERSION = 1
BINDING_TYPE = "yiwang-license-presentation"
MAX_TTL_SECONDS = 600
MAX_LENGTH = 8000
# Verifiers' clocks differ a little from ours.
CLOCK_SKEW = timedelta(seconds=60)

_B64URL = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class Checked:
    valid: bool
    reason: str | None
    license_id: str | None = None
    license_type: str | None = None
    issuer: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    expires_at: datetime | None = None


@dataclass(frozen=True)
class Presentation:
    presentation_id: str
    text: str
    issued_at: datetime
    expires_at: datetime


def credential_digest(credential: Mapping[str, Any]) -> str:
    return b64url(hashlib.sha256(canonical_json(credential)).digest())


def create(
    keyring: SealKeyring,
    *,
    credential: Mapping[str, Any],
    credential_key_id: str,
    credential_signature: str,
    fields: Mapping[str, str],
    salts: Mapping[str, str],
    names: Sequence[str],
    ttl_seconds: int,
    now: datetime,
) -> Presentation:
    """A presentation of the ``names`` fields of a sealed license, valid ``ttl_seconds``."""
    if not 0 < ttl_seconds <= MAX_TTL_SECONDS:
        raise ValueError("ttl_seconds out of range")
    disclosures = [[salts[n], n, fields[n]] for n in sorted(set(names))]
    issued_at = now.astimezone(UTC).replace(microsecond=0)
    expires_at = issued_at + timedelta(seconds=ttl_seconds)
    presentation_id = str(uuid.uuid4())
    binding = {
        "typ": BINDING_TYPE,
        "presentation_id": presentation_id,
        "license_id": credential["license_id"],
        "credential": credential_digest(credential),
        "disclosed": sorted(field_digest(d) for d in disclosures),
        "iat": timestamp(issued_at),
        "exp": timestamp(expires_at),
    }
    document = {
        "v": VERSION,
        "credential": dict(credential),
        "seal": {"kid": credential_key_id, "sig": credential_signature},
        "disclosures": disclosures,
        "binding": binding,
        "binding_seal": {"kid": keyring.key_id, "sig": keyring.sign(binding)},
    }
    return Presentation(presentation_id, b64url(canonical_json(document)), issued_at, expires_at)


# ---- checking -----------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class _Seal(_Strict):
    kid: str
    sig: str


class _Credential(_Strict):
    typ: Literal["yiwang-license-sd"]
    license_id: str
    license_type: str
    issuer: str
    issued_at: str
    valid_until: str | None
    digests: list[str]


class _Binding(_Strict):
    typ: Literal["yiwang-license-presentation"]
    presentation_id: str
    license_id: str
    credential: str
    disclosed: list[str]
    iat: str
    exp: str


class _Document(_Strict):
    v: Literal[1]
    credential: _Credential
    seal: _Seal
    disclosures: list[tuple[str, str, str]]
    binding: _Binding
    binding_seal: _Seal


class _Malformed(Exception):
    pass


def _decode(text: str) -> tuple[bytes, dict[str, Any]]:
    """The document, only if ``text`` is exactly the canonical encoding of it (so no
    byte of a presentation can change without the check noticing)."""
    if len(text) > MAX_LENGTH or not _B64URL.fullmatch(text):
        raise _Malformed
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        document = json.loads(raw.decode())
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise _Malformed from exc
    if b64url(raw) != text or not isinstance(document, dict):
        raise _Malformed
    if canonical_json(document) != raw:
        raise _Malformed
    return raw, document


def _time(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise _Malformed from exc
    if parsed.tzinfo is None or timestamp(parsed) != value:
        raise _Malformed
    return parsed


def public_keys_by_id(
    public_keys: Mapping[str, Any] | Sequence[Mapping[str, Any]],
) -> dict[str, Ed25519PublicKey]:
    """Keys from a JWKS (``{"keys": [...]}``, as ``/seal-keys`` answers) or a list of JWKs."""
    jwks = public_keys.get("keys", []) if isinstance(public_keys, Mapping) else public_keys
    keys: dict[str, Ed25519PublicKey] = {}
    for jwk in jwks:
        try:
            keys[str(jwk["kid"])] = public_key_from_jwk(jwk)
        except (KeyError, ValueError, TypeError, binascii.Error):
            continue  # a key we cannot use verifies nothing
    return keys


def verify_offline(
    presentation: str,
    public_keys: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    *,
    now: datetime,
) -> Checked:
    """Check a presentation with the issuer's public keys only (no database, no network)."""
    try:
        encoded, raw = _decode(presentation)
        document = _Document.model_validate_json(encoded)
        iat, exp = _time(document.binding.iat), _time(document.binding.exp)
        _time(document.credential.issued_at)
        valid_until = (
            _time(document.credential.valid_until) if document.credential.valid_until else None
        )
        if not timedelta(0) < exp - iat <= timedelta(seconds=MAX_TTL_SECONDS):
            raise _Malformed
    except (_Malformed, ValidationError):
        return Checked(False, "malformed")

    keys = public_keys_by_id(public_keys)
    credential_key = keys.get(document.seal.kid)
    binding_key = keys.get(document.binding_seal.kid)
    if credential_key is None or binding_key is None:
        return Checked(False, "unknown_key")
    if not verify_signature(credential_key, raw["credential"], signature=document.seal.sig):
        return Checked(False, "signature_invalid")
    if not verify_signature(binding_key, raw["binding"], signature=document.binding_seal.sig):
        return Checked(False, "signature_invalid")

    credential, binding = document.credential, document.binding
    if binding.license_id != credential.license_id or binding.credential != credential_digest(
        raw["credential"]
    ):
        return Checked(False, "binding_mismatch")
    names = [name for _, name, _ in document.disclosures]
    digests = [field_digest(d) for d in document.disclosures]
    sealed = set(credential.digests)
    if (
        len(set(names)) != len(names)
        or any(d not in sealed for d in digests)
        or sorted(digests) != binding.disclosed
    ):
        return Checked(False, "disclosure_mismatch")

    if now < iat - CLOCK_SKEW:
        return Checked(False, "not_yet_valid")
    if now >= exp:
        return Checked(False, "expired")
    if valid_until is not None and now >= valid_until:
        return Checked(False, "license_expired")
    return Checked(
        True,
        None,
        license_id=credential.license_id,
        license_type=credential.license_type,
        issuer=credential.issuer,
        fields={name: value for _, name, value in document.disclosures},
        expires_at=exp,
    )
