"""Issuing electronic licenses: store, seal and announce them in one transaction."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import cast

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from license.events import LicenseIssued
from license.identifiers import mask_identifier, normalise_holder_id
from license.models import License
from license.schemas import HolderKind, LicenseIssue, LicenseRead
from license.seal import SealKeyring, sealed_content
from yiwang_platform.errors import ProblemError
from yiwang_platform.outbox import Outbox
from yiwang_platform.pii import PiiCipher


def content_of(license: License) -> dict[str, object]:
    return sealed_content(
        license_id=license.license_id,
        license_type=license.license_type,
        holder_index=license.holder_index,
        holder_name=license.holder_name,
        fields=license.fields,
        issued_at=license.issued_at,
        valid_until=license.valid_until,
        issuer=license.issuer,
    )


async def issue(
    session: AsyncSession,
    outbox: Outbox,
    keyring: SealKeyring,
    cipher: PiiCipher,
    data: LicenseIssue,
    issued_by: str,
) -> License:
    """Store and seal a license and add its event to the caller's transaction."""
    holder_id = normalise_holder_id(data.holder_kind, data.holder_id)
    # Whole seconds: the sealed timestamp then reads the same on every database.
    issued_at = datetime.now(UTC).replace(microsecond=0)
    if data.valid_until is not None and data.valid_until <= issued_at:
        raise ProblemError(
            422,
            "valid_until_not_in_future",
            "有效期截止时间须晚于签发时间",
            title_en="valid_until must be after the time of issue",
        )
    license = License(
        license_id=str(uuid.uuid4()),
        license_type=data.license_type,
        holder_kind=data.holder_kind,
        holder_index=cipher.blind_index(holder_id),
        holder_id_encrypted=cipher.encrypt(holder_id),
        holder_name=data.holder_name,
        fields=dict(data.fields),
        issuer=keyring.issuer,
        issued_by=issued_by,
        issued_at=issued_at,
        valid_until=data.valid_until.astimezone(UTC) if data.valid_until else None,
        seal_key_id=keyring.key_id,
    )
    license.signature = keyring.sign(content_of(license))
    session.add(license)
    await session.flush()
    await outbox.add(
        session,
        LicenseIssued(
            license_id=license.license_id,
            license_type=license.license_type,
            holder_kind=data.holder_kind,
            holder_index=license.holder_index,
            issuer=license.issuer,
            issued_at=license.issued_at,
            valid_until=license.valid_until,
        ),
        key=license.license_id,
    )
    return license


def verify(keyring: SealKeyring, license: License) -> bool:
    return keyring.verify(content_of(license), license.signature, license.seal_key_id)


def to_read(license: License, cipher: PiiCipher) -> LicenseRead:
    return LicenseRead(
        license_id=license.license_id,
        license_type=license.license_type,
        holder_kind=cast(HolderKind, license.holder_kind),
        holder_id=mask_identifier(cipher.decrypt(license.holder_id_encrypted)),
        holder_index=license.holder_index,
        holder_name=license.holder_name,
        fields=license.fields,
        issuer=license.issuer,
        issued_at=license.issued_at,
        valid_until=license.valid_until,
        signature=license.signature,
        seal_key_id=license.seal_key_id,
    )


async def find(session: AsyncSession, license_id: str, holder_index: str | None) -> License | None:
    """The license, if the caller may see it (``holder_index`` None: any license)."""
    query = select(License).where(License.license_id == license_id)
    if holder_index is not None:
        query = query.where(License.holder_index == holder_index)
    return await session.scalar(query)


async def newest_first(
    session: AsyncSession,
    holder_index: str | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[License]:
    query = select(License).order_by(License.issued_at.desc(), License.license_id.desc())
    if holder_index is not None:
        query = query.where(License.holder_index == holder_index)
    if after is not None:
        issued_at, license_id = after
        query = query.where(
            or_(
                License.issued_at < issued_at,
                and_(License.issued_at == issued_at, License.license_id < license_id),
            )
        )
    return list((await session.scalars(query.limit(limit))).all())
