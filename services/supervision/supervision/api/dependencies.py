"""Request dependencies specific to the supervision API."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from yiwang_platform.errors import ProblemError
from yiwang_platform.internal_token import InternalPrincipal
from yiwang_platform.pii import PiiCipher
from yiwang_platform.service import PrincipalDep, runtime_of


async def get_cipher(request: Request) -> PiiCipher:
    # Built on first use, not at app creation, so generating the OpenAPI document needs no key.
    cipher: PiiCipher | None = getattr(request.app.state, "pii_cipher", None)
    if cipher is None:
        cipher = PiiCipher.from_settings(runtime_of(request).settings)
        request.app.state.pii_cipher = cipher
    return cipher


CipherDep = Annotated[PiiCipher, Depends(get_cipher)]


# Dashboards and lists are for supervisors and operators; citizens only post reviews.
OVERSEERS = {"supervisor", "operator"}


async def require_overseer(principal: PrincipalDep) -> InternalPrincipal:
    if principal.principal_type not in OVERSEERS:
        raise ProblemError(403, "forbidden", "无权访问", "supervision data is for supervisors")
    return principal


OverseerDep = Annotated[InternalPrincipal, Depends(require_overseer)]
