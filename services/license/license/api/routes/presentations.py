"""Showing a license by QR code (亮证) and verifying what was shown."""

from __future__ import annotations

from fastapi import APIRouter

from license import showing
from license.api.deps import CipherDep, HolderDep, KeyringDep
from license.schemas import (
    PresentationCheckCreate,
    PresentationCheckRead,
    PresentationCreate,
    PresentationRead,
)
from yiwang_platform.deps import NowDep, PrincipalDep, SessionDep
from yiwang_platform.idempotency import IdempotencyDep

router = APIRouter(prefix="/api/v1/license", tags=["presentations"])


@router.post(
    "/licenses/{license_id}/presentations",
    status_code=201,
    response_model=PresentationRead,
    summary="Show chosen fields of one's license: a short-lived signed presentation and its QR",
)
async def present(
    license_id: str,
    body: PresentationCreate,
    session: SessionDep,
    principal: PrincipalDep,
    holder: HolderDep,
    keyring: KeyringDep,
    cipher: CipherDep,
    idempotency: IdempotencyDep,
    now: NowDep,
) -> PresentationRead:
    async with session.begin():
        return await showing.show(
            session=session,
            keyring=keyring,
            cipher=cipher,
            idempotency=idempotency,
            holder_index=holder,
            holder=principal,
            license_id=license_id,
            request=body,
            now=now,
        )


@router.post(
    "/presentations/verify",
    response_model=PresentationCheckRead,
    summary="Verify a shown license: seal, binding, expiry, and that it is not revoked",
)
async def verify_presentation(
    body: PresentationCheckCreate,
    session: SessionDep,
    principal: PrincipalDep,
    keyring: KeyringDep,
    cipher: CipherDep,
    now: NowDep,
) -> PresentationCheckRead:
    async with session.begin():
        return await showing.check(
            session=session,
            keyring=keyring,
            cipher=cipher,
            verifier=principal,
            text=body.presentation,
            now=now,
        )
