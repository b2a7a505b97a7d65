"""/api/v1/license/licenses: issue, list, read and verify electronic licenses."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Query
from fastapi.responses import JSONResponse

from license import issuance
from license.api.deps import CipherDep, KeyringDep, holder_scope
from license.models import License, idempotency
from license.schemas import LicenseIssue, LicenseRead, Verification
from license.seal import timestamp
from yiwang_platform.errors import ProblemError
from yiwang_platform.idempotency import remember, replay, request_hash
from yiwang_platform.pagination import Page, decode_cursor, encode_cursor
from yiwang_platform.service import PrincipalDep, RuntimeDep, SessionDep

router = APIRouter(prefix="/api/v1/license/licenses", tags=["licenses"])


def _not_found() -> ProblemError:
    return ProblemError(404, "license_not_found", "证照不存在", title_en="License not found")


def _cursor_of(license: License) -> str:
    return encode_cursor(f"{timestamp(license.issued_at)}|{license.license_id}")


def _after(cursor: str | None) -> tuple[datetime, str] | None:
    value = decode_cursor(cursor)
    if value is None:
        return None
    issued_at, _, license_id = value.partition("|")
    try:
        return datetime.fromisoformat(issued_at), license_id
    except ValueError as exc:
        raise ProblemError(
            400, "invalid_cursor", "分页游标无效", title_en="Invalid cursor"
        ) from exc


@router.post("", status_code=201, response_model=LicenseRead, summary="Issue and seal a license")
async def issue_license(
    body: LicenseIssue,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: PrincipalDep,
    keyring: KeyringDep,
    cipher: CipherDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> JSONResponse:
    if principal.principal_type != "staff":
        raise ProblemError(403, "forbidden", "无权访问", detail="only staff issue licenses")
    # The stored request hash covers the holder's blind index, not the identifier itself.
    digest = request_hash(
        {**body.model_dump(mode="json"), "holder_id": cipher.blind_index(body.holder_id)}
    )
    async with session.begin():
        stored = await replay(session, idempotency, principal.subject, idempotency_key, digest)
        if stored is not None:
            return JSONResponse(stored[1], status_code=stored[0])
        license = await issuance.issue(
            session,
            runtime.outbox,
            keyring,
            cipher,
            body,
            issued_by=principal.subject,
        )
        result = issuance.to_read(license, cipher).model_dump(mode="json")
        await remember(
            session, idempotency, principal.subject, idempotency_key, digest, 201, result
        )
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
    rows = await issuance.newest_first(session, scope, _after(cursor), limit)
    next_cursor = _cursor_of(rows[-1]) if len(rows) == limit else None
    return Page[LicenseRead](
        items=[issuance.to_read(r, cipher) for r in rows], next_cursor=next_cursor
    )


@router.get("/{license_id}", response_model=LicenseRead, summary="One license, holder id masked")
async def get_license(
    license_id: str, session: SessionDep, principal: PrincipalDep, cipher: CipherDep
) -> LicenseRead:
    license = await issuance.find(session, license_id, holder_scope(principal, cipher))
    if license is None:
        raise _not_found()
    return issuance.to_read(license, cipher)


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
        raise _not_found()
    return Verification(valid=issuance.verify(keyring, license))
