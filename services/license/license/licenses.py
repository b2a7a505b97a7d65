"""Stored licenses: their personal data encrypted at rest, what their seals cover, their
status, and what a caller may see of them (every read logged)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import cast

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from license import types, usage
from license.identifiers import mask_identifier
from license.models import License
from license.schemas import HolderKind, LicenseRead, LicenseStatus, UsageRead
from license.seal import SealKeyring, disclosure_content, sealed_content
from yiwang_platform.errors import ProblemError
from yiwang_platform.internal_token import InternalPrincipal
from yiwang_platform.pagination import Page, decode_key, encode_key
from yiwang_platform.pii import PiiCipher


def license_not_found() -> ProblemError:
    return ProblemError(404, "license_not_found", "证照不存在", title_en="License not found")


@dataclass(frozen=True)
class Opened:
    """A license's personal data, decrypted: what the seal signs beside the clear columns."""

    holder_name: str
    fields: dict[str, str]


def opened(license: License, cipher: PiiCipher) -> Opened:
    if license.holder_name_encrypted is None or license.fields_encrypted is None:
        # Stored before encryption at rest and not yet migrated (license.storage).
        return Opened(license.legacy_holder_name or "", dict(license.legacy_fields or {}))
    return Opened(
        holder_name=cipher.decrypt(license.holder_name_encrypted),
        fields=json.loads(cipher.decrypt(license.fields_encrypted)),
    )


def seal_personal(license: License, data: Opened, *, cipher: PiiCipher) -> None:
    """Store ``data`` encrypted on ``license`` (and nothing of it in clear)."""
    license.holder_name_encrypted = cipher.encrypt(data.holder_name)
    license.fields_encrypted = cipher.encrypt(
        json.dumps(data.fields, ensure_ascii=False, sort_keys=True)
    )
    license.legacy_holder_name = None
    license.legacy_fields = None


def content_of(license: License, data: Opened) -> dict[str, object]:
    return sealed_content(
        license_id=license.license_id,
        license_type=license.license_type,
        holder_index=license.holder_index,
        holder_name=data.holder_name,
        fields=data.fields,
        issued_at=license.issued_at,
        valid_until=license.valid_until,
        issuer=license.issuer,
    )


def disclosure_content_of(license: License, fields: dict[str, str]) -> dict[str, object]:
    return disclosure_content(
        license_id=license.license_id,
        license_type=license.license_type,
        issuer=license.issuer,
        issued_at=license.issued_at,
        valid_until=license.valid_until,
        fields=fields,
        salts=license.field_salts or {},
    )


def status_of(license: License, at: datetime | None = None) -> LicenseStatus:
    if license.status == "revoked":
        return "revoked"
    if license.valid_until is not None and license.valid_until <= (at or datetime.now(UTC)):
        return "expired"
    return "valid"


def seal_holds(license: License, *, keyring: SealKeyring, cipher: PiiCipher) -> bool:
    data = opened(license, cipher)
    if not keyring.verify(content_of(license, data), license.signature, key_id=license.seal_key_id):
        return False
    if license.disclosure_signature is None:
        return True  # sealed before selective disclosure: the full seal is all it has
    return keyring.verify(
        disclosure_content_of(license, data.fields),
        license.disclosure_signature,
        key_id=license.seal_key_id,
    )


def to_read(license: License, cipher: PiiCipher) -> LicenseRead:
    registered = types.lookup(license.license_type)
    data = opened(license, cipher)
    return LicenseRead(
        license_id=license.license_id,
        license_type=license.license_type,
        license_type_name=registered.name if registered else None,
        holder_kind=cast(HolderKind, license.holder_kind),
        holder_id=mask_identifier(cipher.decrypt(license.holder_id_encrypted)),
        holder_index=license.holder_index,
        holder_name=data.holder_name,
        fields=data.fields,
        issuer=license.issuer,
        issued_at=license.issued_at,
        valid_until=license.valid_until,
        signature=license.signature,
        seal_key_id=license.seal_key_id,
        status=status_of(license),
        revoked_at=license.revoked_at,
        case_id=license.case_id,
        subcase_id=license.subcase_id,
    )


async def visible(session: AsyncSession, license_id: str, *, holder_index: str | None) -> License:
    """The license, if the caller may see it (``holder_index`` None: any license); else 404."""
    query = select(License).where(License.license_id == license_id)
    if holder_index is not None:
        query = query.where(License.holder_index == holder_index)
    license = await session.scalar(query)
    if license is None:
        raise license_not_found()
    return license


async def read(
    *,
    session: AsyncSession,
    cipher: PiiCipher,
    license_id: str,
    holder_index: str | None,
    reader: InternalPrincipal,
) -> License:
    """The license the caller may see, its read added to the usage log."""
    license = await visible(session, license_id, holder_index=holder_index)
    await usage.record(
        session, cipher=cipher, license_id=license.license_id, action="read", principal=reader
    )
    return license


async def verify(
    *,
    session: AsyncSession,
    keyring: SealKeyring,
    cipher: PiiCipher,
    license_id: str,
    holder_index: str | None,
) -> bool:
    """Whether the seals of a license the caller may see still hold."""
    license = await visible(session, license_id, holder_index=holder_index)
    return seal_holds(license, keyring=keyring, cipher=cipher)


async def page(
    *,
    session: AsyncSession,
    cipher: PiiCipher,
    holder_index: str | None,
    cursor: str | None,
    limit: int,
) -> Page[LicenseRead]:
    """Licenses newest first (``holder_index`` None: everyone's), a page after ``cursor``."""
    query = select(License).order_by(License.issued_at.desc(), License.license_id.desc())
    if holder_index is not None:
        query = query.where(License.holder_index == holder_index)
    after = decode_key(cursor, datetime, str)
    if after is not None:
        issued_at, license_id = after
        query = query.where(
            or_(
                License.issued_at < issued_at,
                and_(License.issued_at == issued_at, License.license_id < license_id),
            )
        )
    rows = list((await session.scalars(query.limit(limit))).all())
    last = rows[-1] if len(rows) == limit else None
    return Page[LicenseRead](
        items=[to_read(r, cipher) for r in rows],
        next_cursor=encode_key(last.issued_at, last.license_id) if last else None,
    )


async def usage_log(
    *,
    session: AsyncSession,
    license_id: str,
    holder_index: str | None,
    cursor: str | None,
    limit: int,
) -> Page[UsageRead]:
    """Who used a license the caller may see, newest first."""
    license = await visible(session, license_id, holder_index=holder_index)
    return await usage.page(session, license_id=license.license_id, cursor=cursor, limit=limit)
