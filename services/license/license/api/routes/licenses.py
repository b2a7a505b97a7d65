"""/api/v1/license/licenses: issue, list, read and verify electronic licenses."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from license import issuance, types, usage
from license.api.deps import CipherDep, KeyringDep, holder_scope, require_staff
from license.identifiers import normalise_holder_id
from license.models import License
from license.schemas import LicenseIssue, LicenseRead, Revocation, UsageEntry, Verification
from yiwang_platform.deps import PrincipalDep, RuntimeDep, SessionDep
from yiwang_platform.errors import ProblemError
from yiwang_platform.idempotency import IdempotencyDep
from yiwang_platform.pagination import Page, decode_key, encode_key

router = APIRouter(prefix="/api/v1/license/licenses", tags=["licenses"])


def not_found() -> ProblemError:
    return ProblemError(404, "license_not_found", "证照不存在", title_en="License not found")


def cursor_of(license: License) -> str:
    return encode_key(license.issued_at, license.license_id)


def after_cursor(cursor: str | None) -> tuple[datetime, str] | None:
    return decode_key(cursor, datetime, str)


@router.post("", status_code=201, response_model=LicenseRead, summary="Issue and seal a license")
async def issue_license(
    body: LicenseIssue,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: PrincipalDep,
    keyring: KeyringDep,
    cipher: CipherDep,
    idempotency: IdempotencyDep,
) -> JSONResponse:
    require_staff(principal, "only staff issue licenses")
    holder_id = normalise_holder_id(body.holder_kind, body.holder_id)
    issued_at = issuance.now()
    valid_until = body.valid_until
    registered = types.lookup(body.license_type)
    if registered is not None:
        problems = registered.problems(body.fields)
        if body.holder_kind != registered.holder_kind:
            problems.append(f"held by a {registered.holder_kind}")
        if problems:
            raise ProblemError(
                422,
                "license_fields_invalid",
                "证照信息与证照类型不符",
                detail=f"{body.license_type}: {'; '.join(problems)}",
                title_en="The license does not fit its type",
            )
        valid_until = valid_until or registered.valid_until(issued_at)
    if valid_until is not None and valid_until <= issued_at:
        raise ProblemError(
            422,
            "valid_until_not_in_future",
            "有效期截止时间须晚于签发时间",
            title_en="valid_until must be after the time of issue",
        )
    async with session.begin():
        # The request hash is keyed (HMAC), so the holder's identifier cannot be guessed from it.
        payload = body.model_dump(mode="json")
        prior = await idempotency.replay(session, principal.subject, payload, cipher=cipher)
        if prior is not None:
            license = await session.get_one(License, prior.resource_id)
            return JSONResponse(issuance.to_read(license, cipher).model_dump(mode="json"), 201)
        license = await issuance.issue(
            session,
            runtime.outbox,
            keyring,
            cipher,
            license_type=body.license_type,
            holder_kind=body.holder_kind,
            holder_id=holder_id,
            holder_name=body.holder_name,
            fields=dict(body.fields),
            issuer=keyring.issuer,
            issued_by=principal.subject,
            issued_at=issued_at,
            valid_until=valid_until,
        )
        await idempotency.remember(session, 201, resource_id=license.license_id)
        result = issuance.to_read(license, cipher).model_dump(mode="json")
    return JSONResponse(result, status_code=201)


@router.get(
    "",
    response_model=Page[LicenseRead],
    summary="Licenses the caller may see, newest first (citizens: their own; staff: all)",
)
async def list_licenses(
    session: SessionDep,
    principal: PrincipalDep,
    cipher: CipherDep,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[LicenseRead]:
    scope = holder_scope(principal, cipher)
    rows = await issuance.newest_first(session, scope, after_cursor(cursor), limit)
    next_cursor = cursor_of(rows[-1]) if len(rows) == limit else None
    return Page[LicenseRead](
        items=[issuance.to_read(r, cipher) for r in rows], next_cursor=next_cursor
    )


@router.get(
    "/{license_id}",
    response_model=LicenseRead,
    summary="One license with its status, for its holder or staff; every read is logged",
    description="Another service using a license on the holder's behalf (免提交) calls this "
    "with a token whose subject is the holder; the read is logged with the token's scenario.",
)
async def get_license(
    license_id: str, session: SessionDep, principal: PrincipalDep, cipher: CipherDep
) -> LicenseRead:
    async with session.begin():
        license = await issuance.find(session, license_id, holder_scope(principal, cipher))
        if license is None:
            raise not_found()
        await usage.record(session, cipher, license.license_id, "read", principal)
        return issuance.to_read(license, cipher)


@router.post(
    "/{license_id}/revocation",
    response_model=LicenseRead,
    summary="Revoke a license (staff); its presentations stop verifying",
)
async def revoke_license(
    license_id: str,
    body: Revocation,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: PrincipalDep,
    cipher: CipherDep,
    idempotency: IdempotencyDep,
) -> JSONResponse:
    require_staff(principal, "only staff revoke licenses")
    payload = {"license_id": license_id, **body.model_dump(mode="json")}
    async with session.begin():
        prior = await idempotency.replay(session, principal.subject, payload, cipher=cipher)
        license = await session.get(License, license_id, with_for_update=True)
        if license is None:
            raise not_found()
        if prior is None:
            await issuance.revoke(session, runtime.outbox, license, body.reason, principal.subject)
            await idempotency.remember(session, 200, resource_id=license.license_id)
        result = issuance.to_read(license, cipher).model_dump(mode="json")
    return JSONResponse(result)


@router.get(
    "/{license_id}/usage",
    response_model=Page[UsageEntry],
    summary="Who used the license and for what (holder or staff), newest first",
)
async def license_usage(
    license_id: str,
    session: SessionDep,
    principal: PrincipalDep,
    cipher: CipherDep,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[UsageEntry]:
    license = await issuance.find(session, license_id, holder_scope(principal, cipher))
    if license is None:
        raise not_found()
    return await usage.page(session, license.license_id, cursor, limit)


@router.post(
    "/{license_id}/verify",
    response_model=Verification,
    summary="Check the seal of a stored license against its content",
)
async def verify_license(
    license_id: str,
    session: SessionDep,
    principal: PrincipalDep,
    cipher: CipherDep,
    keyring: KeyringDep,
) -> Verification:
    license = await issuance.find(session, license_id, holder_scope(principal, cipher))
    if license is None:
        raise not_found()
    return Verification(valid=issuance.verify(keyring, cipher, license))
