"""Personal identifiers at rest: AES-GCM encryption plus a keyed blind index
(HMAC-SHA256) for exact look-ups without storing the plaintext.

Production sets ``YIWANG_PII_KEY`` (base64 of 64 random bytes: 32 for encryption,
32 for the index) from a secret; the standalone run creates a key file under
``var/`` on first use so every service in that run shares it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from yiwang_platform.keyfiles import write_once
from yiwang_platform.settings import ServiceSettings


class PiiCipher:
    def __init__(self, key_material: bytes) -> None:
        if len(key_material) != 64:
            raise ValueError("PII key must be 64 bytes")
        self._aead = AESGCM(key_material[:32])
        self._index_key = key_material[32:]

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> PiiCipher:
        if settings.pii_key:
            return cls(base64.b64decode(settings.pii_key))
        if settings.environment == "distributed":
            raise RuntimeError("YIWANG_PII_KEY must be set in the distributed run")
        path = Path(settings.var_dir) / "pii.key"
        if not path.exists():
            write_once(path, base64.b64encode(os.urandom(64)))
        return cls(base64.b64decode(path.read_bytes()))

    def blind_index(self, value: str) -> str:
        """Deterministic keyed digest of a normalised identifier, for look-ups and event keys."""
        normalised = value.strip().upper().encode()
        return hmac.new(self._index_key, normalised, hashlib.sha256).hexdigest()

    def mac(self, purpose: str, data: bytes) -> str:
        """Keyed digest of any data, with a key derived per purpose so that no digest
        made for one use (say, of a request body) matches one made for another."""
        key = hmac.new(self._index_key, b"yiwang-mac:" + purpose.encode(), hashlib.sha256)
        return hmac.new(key.digest(), data, hashlib.sha256).hexdigest()

    def encrypt(self, value: str) -> str:
        nonce = os.urandom(12)
        return base64.b64encode(nonce + self._aead.encrypt(nonce, value.encode(), None)).decode()

    def decrypt(self, token: str) -> str:
        raw = base64.b64decode(token)
        return self._aead.decrypt(raw[:12], raw[12:], None).decode()
