"""/api/v1/license/licenses: issue, list, read, revoke and verify electronic licenses."""

from __future__ import annotations

from fastapi import APIRouter

from license import issuance, licenses
from license.api.deps import (
    CipherDep,
    HolderScopeDep,
    IssuingStaffDep,
    KeyringDep,
    PageLimit,
    RevokingStaffDep,
)
from license.schemas import (
    LicenseCreate,
    LicenseRead,
    RevocationCreate,
    UsageRead,
    VerificationRead,
)
from yiwang_platform.deps import NowDep, OutboxDep, PrincipalDep, SessionDep
from yiwang_platform.idempotency import IdempotencyDep
from yiwang_platform.pagination import Page

router = APIRouter(prefix="/api/v1/license/licenses", tags=["licenses"])


@router.post("", status_code=201, response_model=LicenseRead, summary="Issue and seal a license")
async def issue_license(
    body: LicenseCreate,
    session: SessionDep,
    outbox: OutboxDep,
    staff: IssuingStaffDep,
    keyring: KeyringDep,
    cipher: CipherDep,
    idempotency: IdempotencyDep,
    now: NowDep,
) -> LicenseRead:
    async with session.begin():
        license = await issuance.issue_by_staff(
            session=session,
            outbox=outbox,
            keyring=keyring,
            cipher=cipher,
            idempotency=idempotency,
            request=body,
            staff=staff.subject,
            now=now,
        )
        return licenses.to_read(license, cipher)


@router.get(
    "",
    response_model=Page[LicenseRead],
    summary="Licenses the caller may see, newest first (citizens: their own; staff: all)",
)
async def list_licenses(
    session: SessionDep,
    scope: HolderScopeDep,
    cipher: CipherDep,
    cursor: str | None = None,
    limit: PageLimit = 50,
) -> Page[LicenseRead]:
    return await licenses.page(
        session=session, cipher=cipher, holder_index=scope, cursor=cursor, limit=limit
    )


@router.get(
    "/{license_id}",
    response_model=LicenseRead,
    summary="One license with its status, for its holder or staff; every read is logged",
    description="Another service using a license on the holder's behalf (免提交) calls this "
    "with a token whose subject is the holder; the read is logged with the token's scenario.",
)
async def get_license(
    license_id: str,
    session: SessionDep,
    principal: PrincipalDep,
    scope: HolderScopeDep,
    cipher: CipherDep,
) -> LicenseRead:
    async with session.begin():
        license = await licenses.read(
            session=session,
            cipher=cipher,
            license_id=license_id,
            holder_index=scope,
            reader=principal,
        )
        return licenses.to_read(license, cipher)


@router.post(
    "/{license_id}/revocation",
    response_model=LicenseRead,
    summary="Revoke a license (staff); its presentations stop verifying",
)
async def revoke_license(
    license_id: str,
    body: RevocationCreate,
    session: SessionDep,
    outbox: OutboxDep,
    staff: RevokingStaffDep,
    cipher: CipherDep,
    idempotency: IdempotencyDep,
    now: NowDep,
) -> LicenseRead:
    async with session.begin():
        license = await issuance.revoke(
            session=session,
            outbox=outbox,
            cipher=cipher,
            idempotency=idempotency,
            license_id=license_id,
            request=body,
            revoked_by=staff.subject,
            now=now,
        )
        return licenses.to_read(license, cipher)


@router.get(
    "/{license_id}/usage",
    response_model=Page[UsageRead],
    summary="Who used the license and for what (holder or staff), newest first",
)
async def license_usage(
    license_id: str,
    session: SessionDep,
    scope: HolderScopeDep,
    cursor: str | None = None,
    limit: PageLimit = 50,
) -> Page[UsageRead]:
    return await licenses.usage_log(
        session=session, license_id=license_id, holder_index=scope, cursor=cursor, limit=limit
    )


@router.post(
    "/{license_id}/verify",
    response_model=VerificationRead,
    summary="Check the seal of a stored license against its content",
)
async def verify_license(
    license_id: str,
    session: SessionDep,
    scope: HolderScopeDep,
    cipher: CipherDep,
    keyring: KeyringDep,
) -> VerificationRead:
    valid = await licenses.verify(
        session=session, keyring=keyring, cipher=cipher, license_id=license_id, holder_index=scope
    )
    return VerificationRead(valid=valid)
