"""Request dependencies specific to the intake API."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from yiwang_platform.pii import PiiCipher
from yiwang_platform.service import runtime_of


async def get_cipher(request: Request) -> PiiCipher:
    # Built on first use, not at app creation, so generating the OpenAPI document needs no key.
    cipher: PiiCipher | None = getattr(request.app.state, "pii_cipher", None)
    if cipher is None:
        cipher = PiiCipher.from_settings(runtime_of(request).settings)
        request.app.state.pii_cipher = cipher
    return cipher


CipherDep = Annotated[PiiCipher, Depends(get_cipher)]
