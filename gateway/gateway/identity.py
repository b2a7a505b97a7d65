"""Who is calling. Callers present an API key (``X-Api-Key``); the gateway keeps only
SHA-256 hashes of keys and the principal each stands for."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import Request

from yiwang_platform.errors import ProblemError

PRINCIPAL_TYPES = {"citizen", "enterprise", "staff", "partner", "county", "operator", "supervisor"}


@dataclass(frozen=True)
class Principal:
    """The authenticated caller.

    ``subject``: citizens — their resident ID number once real-name bound, else
    ``acct:<account id>``; enterprises — the credit code they act for; staff — their
    staff id; machines — their client id. ``acr``: L1 password/SMS, L2 real-name bound,
    L3 face-verified recently. ``session_id`` ties access tokens to a sign-in session.
    """

    subject: str
    principal_type: str
    roles: tuple[str, ...] = ()
    key_id: str = ""
    acr: str = "L1"
    session_id: str | None = None
    department: str | None = None
    scopes: tuple[str, ...] = ()
    extra: dict[str, str] = field(default_factory=dict)


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiKeyAuthenticator:
    def __init__(self, entries: list[dict[str, object]]) -> None:
        self._by_hash: dict[str, Principal] = {}
        for entry in entries:
            ptype = str(entry["principal_type"])
            if ptype not in PRINCIPAL_TYPES:
                raise ValueError(f"unknown principal type {ptype}")
            digest = str(entry["sha256"]).lower()
            roles = entry.get("roles") or []
            self._by_hash[digest] = Principal(
                subject=str(entry["subject"]),
                principal_type=ptype,
                roles=tuple(str(r) for r in roles) if isinstance(roles, list) else (),
                key_id=digest[:12],
            )

    @classmethod
    def from_setting(cls, value: str) -> ApiKeyAuthenticator:
        value = value.strip()
        if not value:
            return cls([])
        text = value if value.startswith("[") else Path(value).read_text()
        return cls(json.loads(text))

    def authenticate(self, request: Request) -> Principal:
        key = request.headers.get("x-api-key", "")
        if not key:
            raise ProblemError(
                401, "unauthenticated", "未认证或凭证无效", "X-Api-Key header missing"
            )
        digest = hash_api_key(key)
        for known, principal in self._by_hash.items():
            if hmac.compare_digest(known, digest):
                return principal
        raise ProblemError(401, "unauthenticated", "未认证或凭证无效", "API key not recognised")
