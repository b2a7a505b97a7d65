"""Per-app singletons the routes need: the seal keyring and the PII cipher.

Both are made on first use (not at import or app creation), so building the app for
its OpenAPI document creates no key files.
"""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import Depends, Request
from yiwang_platform.errors import ProblemError
from yiwang_platform.internal_token import InternalPrincipal
from yiwang_platform.pii import PiiCipher
from yiwang_platform.service import get_runtime

from license.seal import SealKeyring
from license.settings import Settings


def settings_of(request: Request) -> Settings:
    return cast(Settings, get_runtime(request).settings)


def get_keyring(request: Request) -> SealKeyring:
    state = request.app.state
    if getattr(state, "seal_keyring", None) is None:
        state.seal_keyring = SealKeyring.from_settings(settings_of(request))
    keyring: SealKeyring = state.seal_keyring
    return keyring


def get_cipher(request: Request) -> PiiCipher:
    state = request.app.state
    if getattr(state, "pii_cipher", None) is None:
        state.pii_cipher = PiiCipher.from_settings(settings_of(request))
    cipher: PiiCipher = state.pii_cipher
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
