"""Key files a standalone run creates on first use under ``var/`` (production passes
keys from secrets): written once, atomically, readable by the owner only."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


def write_once(path: Path, data: bytes) -> None:
    """Write a new key file atomically, readable by the owner only: several processes may
    start at once and all must end up with the same complete key, whoever wins."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(8)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    try:
        os.link(tmp, path)  # fails if another process got there first; theirs stands
    except FileExistsError:
        pass
    finally:
        tmp.unlink()


def private_pem(key: Ed25519PrivateKey) -> str:
    """The key as unencrypted PKCS#8 PEM, for a key file or a secret."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
