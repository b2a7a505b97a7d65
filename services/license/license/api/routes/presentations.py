"""Showing a license by QR code (亮证) and verifying what was shown."""

from __future__ import annotations

import base64
import io
from datetime import UTC, datetime

import segno
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from license import issuance, presentation, usage
from license.api.deps import CipherDep, KeyringDep, holder_of
from license.api.routes.licenses import not_found
from license.models import License
from license.schemas import (
    PresentationCheck,
    PresentationCreated,
    PresentationRequest,
    PresentationVerify,
    QrCode,
)
from yiwang_platform.deps import PrincipalDep, SessionDep
from yiwang_platform.errors import ProblemError
from yiwang_platform.idempotency import IdempotencyDep

router = APIRouter(prefix="/api/v1/license", tags=["presentations"])


def qr_png(text: str) -> str:
    try:
        qr = segno.make_qr(text, error="l")
    except segno.DataOverflowError as exc:
        raise ProblemError(
            422,
            "presentation_too_large",
            "所选信息过多，无法生成二维码",
            detail="choose fewer or shorter fields",
            title_en="Too much to fit in a QR code",
        ) from exc
    out = io.BytesIO()
    qr.save(out, kind="png", scale=4, border=4)
    return base64.b64encode(out.getvalue()).decode()


@router.post(
    "/licenses/{license_id}/presentations",
    status_code=201,
    response_model=PresentationCreated,
    summary="Show chosen fields of one's license: a short-lived signed presentation and its QR",
)
async def present(
    license_id: str,
    body: PresentationRequest,
    session: SessionDep,
    principal: PrincipalDep,
    keyring: KeyringDep,
    cipher: CipherDep,
    idempotency: IdempotencyDep,
) -> JSONResponse:
    holder = holder_of(principal, cipher)
    payload = {"license_id": license_id, **body.model_dump(mode="json")}
    async with session.begin():
        prior = await idempotency.replay(session, holder, payload, cipher=cipher)
        if prior is not None:  # a presentation is not stored: its answer is, encrypted
            return JSONResponse(prior.body, status_code=prior.status)
        license = await issuance.find(session, license_id, holder)
        if license is None:
            raise not_found()
        fields = issuance.opened(license, cipher).fields
        _check_presentable(license, fields, body.fields)
        shown = presentation.create(
            keyring,
            credential=issuance.disclosure_content_of(license, fields),
            credential_key_id=license.seal_key_id,
            credential_signature=license.disclosure_signature or "",
            fields=fields,
            salts=license.field_salts or {},
            names=body.fields,
            ttl_seconds=body.ttl_seconds,
            now=datetime.now(UTC),
        )
        result = PresentationCreated(
            presentation_id=shown.presentation_id,
            license_id=license.license_id,
            license_type=license.license_type,
            fields=sorted(set(body.fields)),
            issued_at=shown.issued_at,
            expires_at=shown.expires_at,
            presentation=shown.text,
            qr_code=QrCode(media_type="image/png", base64=qr_png(shown.text)),
        ).model_dump(mode="json")
        await usage.record(session, cipher, license.license_id, "present", principal)
        await idempotency.remember(session, 201, body=result)
    return JSONResponse(result, status_code=201)


def _check_presentable(license: License, fields: dict[str, str], names: list[str]) -> None:
    status = issuance.status_of(license)
    if status != "valid":
        raise ProblemError(
            409,
            f"license_{status}",
            "证照已吊销" if status == "revoked" else "证照已过期",
            title_en=f"License {status}",
        )
    if license.field_salts is None or license.disclosure_signature is None:
        raise ProblemError(
            409,
            "license_not_presentable",
            "该证照签发较早，不支持选择性出示",
            title_en="License sealed before selective disclosure",
        )
    unknown = sorted(set(names) - set(fields))
    if unknown:
        raise ProblemError(
            422,
            "unknown_fields",
            "证照不含所选信息项",
            detail=f"the license has no fields {', '.join(unknown)}",
            title_en="Unknown fields",
        )


@router.post(
    "/presentations/verify",
    response_model=PresentationCheck,
    summary="Verify a shown license: seal, binding, expiry, and that it is not revoked",
)
async def verify_presentation(
    body: PresentationVerify,
    session: SessionDep,
    principal: PrincipalDep,
    keyring: KeyringDep,
    cipher: CipherDep,
) -> PresentationCheck:
    checked = presentation.verify_offline(body.presentation, keyring.jwks(), datetime.now(UTC))
    if not checked.valid or checked.license_id is None:
        return PresentationCheck(valid=False, reason=checked.reason)
    async with session.begin():
        license = await session.get(License, checked.license_id)
        if license is None:
            return PresentationCheck(valid=False, reason="unknown_license")
        await usage.record(session, cipher, license.license_id, "verify", principal)
        if license.status == "revoked":
            return PresentationCheck(valid=False, reason="revoked")
    return PresentationCheck(
        valid=True,
        reason=None,
        license_id=checked.license_id,
        license_type=checked.license_type,
        fields=checked.fields,
        issuer=checked.issuer,
        expires_at=checked.expires_at,
    )
