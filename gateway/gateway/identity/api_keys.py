"""Callers with an API key (``X-Api-Key``, operators' tools): the gateway keeps only
SHA-256 hashes of keys and the principal each stands for."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

from gateway.identity.principal import PRINCIPAL_TYPES, Principal
from yiwang_platform.errors import ProblemError


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

    def authenticate(self, key: str) -> Principal:
        if not key:
            raise ProblemError(
                401, "unauthenticated", "未认证或凭证无效", "X-Api-Key header missing"
            )
        digest = hash_api_key(key)
        for known, principal in self._by_hash.items():
            if hmac.compare_digest(known, digest):
                return principal
        raise ProblemError(401, "unauthenticated", "未认证或凭证无效", "API key not recognised")
