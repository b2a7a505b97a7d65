"""/api/v1/license/seal-keys: the public keys of the issuer's seal, for offline verification."""

from __future__ import annotations

from fastapi import APIRouter

from license.api.deps import KeyringDep
from license.schemas import SealKeyRead, SealKeysRead
from yiwang_platform.deps import PrincipalDep

router = APIRouter(prefix="/api/v1/license/seal-keys", tags=["seal"])


@router.get("", response_model=SealKeysRead, summary="Public keys of the seal (JWKS-like)")
async def seal_keys(keyring: KeyringDep, _principal: PrincipalDep) -> SealKeysRead:
    return SealKeysRead(
        issuer=keyring.issuer,
        keys=[SealKeyRead.model_validate(k) for k in keyring.jwks()],
    )
