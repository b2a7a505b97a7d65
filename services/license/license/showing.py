"""Showing one's license by QR code (亮证) and checking a shown license online: the
service's side of ``license.presentation``, with the usage log and revocations."""

from __future__ import annotations

import base64
import io
from datetime import datetime

import segno
from sqlalchemy.ext.asyncio import AsyncSession

from license import presentation, usage
from license.licenses import disclosure_content_of, opened, status_of, visible
from license.models import License
from license.schemas import PresentationCheckRead, PresentationCreate, PresentationRead, QrCode
from license.seal import SealKeyring
from yiwang_platform.errors import ProblemError
from yiwang_platform.idempotency import Idempotency
from yiwang_platform.internal_token import InternalPrincipal
from yiwang_platform.pii import PiiCipher


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


def _check_presentable(license: License, fields: dict[str, str], *, names: list[str]) -> None:
    status = status_of(license)
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


async def show(
    *,
    session: AsyncSession,
    keyring: SealKeyring,
    cipher: PiiCipher,
    idempotency: Idempotency,
    holder_index: str,
    holder: InternalPrincipal,
    license_id: str,
    request: PresentationCreate,
    now: datetime,
) -> PresentationRead:
    """A short-lived presentation of the chosen fields of the holder's own license."""
    payload = {"license_id": license_id, **request.model_dump(mode="json")}
    prior = await idempotency.replay(session, holder_index, payload=payload, cipher=cipher)
    if prior is not None:  # a presentation is not stored: its answer is, encrypted
        return PresentationRead.model_validate(prior.body)
    license = await visible(session, license_id, holder_index=holder_index)
    fields = opened(license, cipher).fields
    _check_presentable(license, fields, names=request.fields)
    shown = presentation.create(
        keyring,
        credential=disclosure_content_of(license, fields),
        credential_key_id=license.seal_key_id,
        credential_signature=license.disclosure_signature or "",
        fields=fields,
        salts=license.field_salts or {},
        names=request.fields,
        ttl_seconds=request.ttl_seconds,
        now=now,
    )
    created = PresentationRead(
        presentation_id=shown.presentation_id,
        license_id=license.license_id,
        license_type=license.license_type,
        fields=sorted(set(request.fields)),
        issued_at=shown.issued_at,
        expires_at=shown.expires_at,
        presentation=shown.text,
        qr_code=QrCode(media_type="image/png", base64=qr_png(shown.text)),
    )
    await usage.record(
        session, cipher=cipher, license_id=license.license_id, action="present", principal=holder
    )
    await idempotency.remember(session, 201, body=created.model_dump(mode="json"))
    return created


async def check(
    *,
    session: AsyncSession,
    keyring: SealKeyring,
    cipher: PiiCipher,
    verifier: InternalPrincipal,
    text: str,
    now: datetime,
) -> PresentationCheckRead:
    """Whether a shown license verifies: its seals, binding and times offline, then that
    it is known here and not revoked (logged as a verification)."""
    checked = presentation.verify_offline(text, keyring.jwks(), now=now)
    if not checked.valid or checked.license_id is None:
        return PresentationCheckRead(valid=False, reason=checked.reason)
    license = await session.get(License, checked.license_id)
    if license is None:
        return PresentationCheckRead(valid=False, reason="unknown_license")
    await usage.record(
        session, cipher=cipher, license_id=license.license_id, action="verify", principal=verifier
    )
    if license.status == "revoked":
        return PresentationCheckRead(valid=False, reason="revoked")
    return PresentationCheckRead(
        valid=True,
        reason=None,
        license_id=checked.license_id,
        license_type=checked.license_type,
        fields=checked.fields,
        issuer=checked.issuer,
        expires_at=checked.expires_at,
    )
