"""The seal keyring and the PII cipher, loaded once when the app starts (see ``main``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from license.seal import SealKeyring
from yiwang_platform.errors import ProblemError
from yiwang_platform.internal_token import InternalPrincipal
from yiwang_platform.pii import PiiCipher


async def get_keyring(request: Request) -> SealKeyring:
    keyring: SealKeyring = request.app.state.seal_keyring
    return keyring


async def get_cipher(request: Request) -> PiiCipher:
    cipher: PiiCipher = request.app.state.pii_cipher
    return cipher


KeyringDep = Annotated[SealKeyring, Depends(get_keyring)]
CipherDep = Annotated[PiiCipher, Depends(get_cipher)]


def holder_scope(principal: InternalPrincipal, cipher: PiiCipher) -> str | None:
    """Whose licenses the caller may see: None for staff (all), else the caller's own
    blind index (citizens by ID number, enterprises by credit code)."""
    if principal.principal_type == "staff":
        return None
    if principal.principal_type in ("citizen", "enterprise"):
        return cipher.blind_index(principal.subject)
    raise ProblemError(403, "forbidden", "无权访问")


def require_staff(principal: InternalPrincipal, detail: str) -> None:
    if principal.principal_type != "staff":
        raise ProblemError(403, "forbidden", "无权访问", detail=detail)


def holder_of(principal: InternalPrincipal, cipher: PiiCipher) -> str:
    """The caller's blind index when the caller can hold licenses, else 403."""
    if principal.principal_type not in ("citizen", "enterprise"):
        raise ProblemError(403, "forbidden", "无权访问", detail="only holders have a wallet")
    return cipher.blind_index(principal.subject)
