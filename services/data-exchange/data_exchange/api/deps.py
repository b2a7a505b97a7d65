"""Request dependencies of the data-exchange API."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from data_exchange.faces import FaceMatcher
from yiwang_platform.errors import ProblemError
from yiwang_platform.internal_token import InternalPrincipal
from yiwang_platform.pii import PiiCipher


async def get_cipher(request: Request) -> PiiCipher:
    # Loaded when the app starts (see main.load_keys).
    cipher: PiiCipher = request.app.state.pii_cipher
    return cipher


CipherDep = Annotated[PiiCipher, Depends(get_cipher)]


async def get_face_matcher(request: Request) -> FaceMatcher:
    # Made when the app starts (see main.load_keys).
    matcher: FaceMatcher = request.app.state.face_matcher
    return matcher


FaceMatcherDep = Annotated[FaceMatcher, Depends(get_face_matcher)]


def require_type(principal: InternalPrincipal, *allowed: str) -> None:
    if principal.principal_type not in allowed:
        raise ProblemError(403, "forbidden", "无权访问")
