"""Issuing electronic licenses: store, seal and announce them in one transaction;
revoke them; tell their status."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import cast

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from license import types
from license.events import LicenseIssued, LicenseRevoked
from license.identifiers import mask_identifier
from license.models import License
from license.schemas import HolderKind, LicenseRead, LicenseStatus
from license.seal import SealKeyring, disclosure_content, new_salt, sealed_content
from yiwang_platform.errors import ProblemError
from yiwang_platform.masking import mask
from yiwang_platform.outbox import Outbox
from yiwang_platform.pii import PiiCipher

# License ids issued on approval are uuid5 of the sub-case in this namespace, so a
# redelivered decision finds the license it already issued.
SUBCASE_NAMESPACE = uuid.UUID("5b0f3c3e-2f6a-4d7e-9c1a-7e1b6c2d9a40")


def license_id_for_subcase(subcase_id: str) -> str:
    return str(uuid.uuid5(SUBCASE_NAMESPACE, subcase_id))


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


def seal_personal(license: License, cipher: PiiCipher, data: Opened) -> None:
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


def now() -> datetime:
    # Whole seconds: the sealed timestamp then reads the same on every database.
    return datetime.now(UTC).replace(microsecond=0)


async def issue(
    session: AsyncSession,
    outbox: Outbox,
    keyring: SealKeyring,
    cipher: PiiCipher,
    *,
    license_type: str,
    holder_kind: HolderKind,
    holder_id: str,
    holder_name: str,
    fields: dict[str, str],
    issuer: str,
    issued_by: str,
    issued_at: datetime,
    valid_until: datetime | None,
    license_id: str | None = None,
    case_id: str | None = None,
    subcase_id: str | None = None,
) -> License:
    """Store and seal a license and add its event to the caller's transaction.
    ``holder_id`` is already normalised."""
    license = License(
        license_id=license_id or str(uuid.uuid4()),
        license_type=license_type,
        holder_kind=holder_kind,
        holder_index=cipher.blind_index(holder_id),
        holder_id_encrypted=cipher.encrypt(holder_id),
        field_salts={name: new_salt() for name in fields},
        issuer=issuer,
        issued_by=issued_by,
        issued_at=issued_at,
        valid_until=valid_until.astimezone(UTC) if valid_until else None,
        seal_key_id=keyring.key_id,
        status="valid",
        case_id=case_id,
        subcase_id=subcase_id,
    )
    # Sealed over the plaintext; stored encrypted.
    data = Opened(holder_name, dict(fields))
    seal_personal(license, cipher, data)
    license.signature = keyring.sign(content_of(license, data))
    license.disclosure_signature = keyring.sign(disclosure_content_of(license, data.fields))
    session.add(license)
    await session.flush()
    await outbox.add(
        session,
        LicenseIssued(
            license_id=license.license_id,
            license_type=license.license_type,
            holder_kind=holder_kind,
            holder_index=license.holder_index,
            issuer=license.issuer,
            issued_at=license.issued_at,
            valid_until=license.valid_until,
            case_id=case_id,
            subcase_id=subcase_id,
        ),
        key=license.license_id,
    )
    return license


async def revoke(
    session: AsyncSession, outbox: Outbox, license: License, reason: str, revoked_by: str
) -> None:
    if license.status == "revoked":
        raise ProblemError(
            409, "license_already_revoked", "证照已吊销", title_en="License already revoked"
        )
    license.status = "revoked"
    license.revoked_at = now()
    license.revoked_by = revoked_by
    license.revocation_reason = mask(reason)
    await session.flush()
    await outbox.add(
        session,
        LicenseRevoked(
            license_id=license.license_id,
            license_type=license.license_type,
            holder_kind=cast(HolderKind, license.holder_kind),
            holder_index=license.holder_index,
            issuer=license.issuer,
            revoked_at=license.revoked_at,
            reason=license.revocation_reason,
            case_id=license.case_id,
            subcase_id=license.subcase_id,
        ),
        key=license.license_id,
    )


def status_of(license: License, at: datetime | None = None) -> LicenseStatus:
    if license.status == "revoked":
        return "revoked"
    if license.valid_until is not None and license.valid_until <= (at or datetime.now(UTC)):
        return "expired"
    return "valid"


def verify(keyring: SealKeyring, cipher: PiiCipher, license: License) -> bool:
    data = opened(license, cipher)
    if not keyring.verify(content_of(license, data), license.signature, license.seal_key_id):
        return False
    if license.disclosure_signature is None:
        return True  # sealed before selective disclosure: the full seal is all it has
    return keyring.verify(
        disclosure_content_of(license, data.fields),
        license.disclosure_signature,
        license.seal_key_id,
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
