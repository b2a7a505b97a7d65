"""The license API's dependencies: its settings, its seal keyring (built at start), the
PII cipher, and who the caller is to the licenses (``license.holders``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from license import holders
from license.seal import SealKeyring
from license.settings import Settings
from yiwang_platform.deps import (
    CipherDep,
    PrincipalDep,
    collaborators_of,
    require_principal,
    settings_of,
)
from yiwang_platform.internal_token import InternalPrincipal

__all__ = [
    "CipherDep",
    "HolderDep",
    "HolderScopeDep",
    "IssuingStaffDep",
    "KeyringDep",
    "PageLimit",
    "RevokingStaffDep",
    "SettingsDep",
]

SettingsDep = Annotated[Settings, Depends(settings_of(Settings))]
KeyringDep = Annotated[SealKeyring, Depends(collaborators_of(SealKeyring))]
PageLimit = Annotated[int, Query(ge=1, le=200)]


async def _holder_scope(principal: PrincipalDep, cipher: CipherDep) -> str | None:
    return holders.scope_of(principal, cipher)


async def _holder(principal: PrincipalDep, cipher: CipherDep) -> str:
    return holders.holder_index_of(principal, cipher)


# The blind index whose licenses the caller may see; None for staff (all of them).
HolderScopeDep = Annotated[str | None, Depends(_holder_scope)]
# The caller's own blind index: citizens and enterprises only.
HolderDep = Annotated[str, Depends(_holder)]
IssuingStaffDep = Annotated[
    InternalPrincipal, Depends(require_principal("staff", detail="only staff issue licenses"))
]
RevokingStaffDep = Annotated[
    InternalPrincipal, Depends(require_principal("staff", detail="only staff revoke licenses"))
]
