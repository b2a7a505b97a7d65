"""Issuing electronic licenses, by staff or on an approved sub-case, and revoking them:
the license, its seal and its event in the caller's transaction.

Intake sends the holder and the license's fields of an approval encrypted with the
platform's PII key. The license id is uuid5 of the sub-case, so a redelivered decision
issues nothing twice (the inbox guards too). An approval whose license cannot be issued
(unknown type, fields that do not fit it, a holder that does not check out) raises
``RejectEvent`` with the reason, so it goes to the dead-letter topic.
"""

from __future__ import annotations

import binascii
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from cryptography.exceptions import InvalidTag
from sqlalchemy.ext.asyncio import AsyncSession

from license import types
from license.events import LicenseIssued, LicenseRevoked, LicenseToIssue, SubCaseDecidedIn
from license.identifiers import normalise_holder_id
from license.licenses import (
    Opened,
    content_of,
    disclosure_content_of,
    license_not_found,
    seal_personal,
)
from license.models import License
from license.schemas import HolderKind, LicenseCreate, RevocationCreate
from license.seal import SealKeyring, new_salt
from yiwang_platform.consumer import RejectEvent
from yiwang_platform.errors import ProblemError
from yiwang_platform.idempotency import Idempotency
from yiwang_platform.masking import mask
from yiwang_platform.outbox import Outbox
from yiwang_platform.pii import PiiCipher

# License ids issued on approval are uuid5 of the sub-case in this namespace, so a
# redelivered decision finds the license it already issued.
SUBCASE_NAMESPACE = uuid.UUID("5b0f3c3e-2f6a-4d7e-9c1a-7e1b6c2d9a40")


def license_id_for_subcase(subcase_id: str) -> str:
    return str(uuid.uuid5(SUBCASE_NAMESPACE, subcase_id))


def whole_seconds(moment: datetime) -> datetime:
    # The sealed timestamp then reads the same on every database.
    return moment.astimezone(UTC).replace(microsecond=0)


def _about(license: License) -> dict[str, Any]:
    """What the license's events say of it."""
    return {
        "license_id": license.license_id,
        "license_type": license.license_type,
        "holder_kind": cast(HolderKind, license.holder_kind),
        "holder_index": license.holder_index,
        "issuer": license.issuer,
        "case_id": license.case_id,
        "subcase_id": license.subcase_id,
    }


async def issue(
    *,
    session: AsyncSession,
    outbox: Outbox,
    keyring: SealKeyring,
    cipher: PiiCipher,
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
    seal_personal(license, data, cipher=cipher)
    license.signature = keyring.sign(content_of(license, data))
    license.disclosure_signature = keyring.sign(disclosure_content_of(license, data.fields))
    session.add(license)
    await session.flush()
    await outbox.add(
        session,
        LicenseIssued(
            **_about(license), issued_at=license.issued_at, valid_until=license.valid_until
        ),
        key=license.license_id,
    )
    return license


async def issue_by_staff(
    *,
    session: AsyncSession,
    outbox: Outbox,
    keyring: SealKeyring,
    cipher: PiiCipher,
    idempotency: Idempotency,
    request: LicenseCreate,
    staff: str,
    now: datetime,
) -> License:
    """A license a staff member asked for, checked against its type when registered;
    a retry with the same ``Idempotency-Key`` finds the license issued first."""
    holder_id = normalise_holder_id(request.holder_kind, request.holder_id)
    issued_at = whole_seconds(now)
    valid_until = request.valid_until
    registered = types.lookup(request.license_type)
    if registered is not None:
        problems = registered.problems(request.fields)
        if request.holder_kind != registered.holder_kind:
            problems.append(f"held by a {registered.holder_kind}")
        if problems:
            raise ProblemError(
                422,
                "license_fields_invalid",
                "证照信息与证照类型不符",
                detail=f"{request.license_type}: {'; '.join(problems)}",
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
    # The request hash is keyed (HMAC), so the holder's identifier cannot be guessed from it.
    payload = request.model_dump(mode="json")
    prior = await idempotency.replay(session, staff, payload=payload, cipher=cipher)
    if prior is not None:
        return await session.get_one(License, prior.resource_id)
    license = await issue(
        session=session,
        outbox=outbox,
        keyring=keyring,
        cipher=cipher,
        license_type=request.license_type,
        holder_kind=request.holder_kind,
        holder_id=holder_id,
        holder_name=request.holder_name,
        fields=dict(request.fields),
        issuer=keyring.issuer,
        issued_by=staff,
        issued_at=issued_at,
        valid_until=valid_until,
    )
    await idempotency.remember(session, 201, resource_id=license.license_id)
    return license


@dataclass(frozen=True)
class _Checked:
    """An approval's license, decrypted and found fit to issue."""

    kind: types.LicenseType
    holder_id: str
    holder_name: str
    fields: dict[str, str]


def _decrypt(wanted: LicenseToIssue, name: str, *, cipher: PiiCipher) -> str:
    try:
        return cipher.decrypt(getattr(wanted, name))
    except (InvalidTag, binascii.Error, ValueError, UnicodeDecodeError) as exc:
        # Never the value: only which field could not be read.
        raise RejectEvent(f"license.{name} cannot be decrypted with the PII key") from exc


def _checked(wanted: LicenseToIssue, cipher: PiiCipher) -> _Checked:
    code = wanted.license_type
    kind = types.lookup(code)
    if kind is None:
        raise RejectEvent(f"unknown license type {code!r}")
    if wanted.holder_kind != kind.holder_kind:
        raise RejectEvent(f"{code} is for {kind.holder_kind} holders, not {wanted.holder_kind}")
    holder = _decrypt(wanted, "holder_encrypted", cipher=cipher)
    holder_name = _decrypt(wanted, "holder_name_encrypted", cipher=cipher).strip()
    try:
        fields = json.loads(_decrypt(wanted, "fields_encrypted", cipher=cipher))
    except json.JSONDecodeError as exc:
        raise RejectEvent("license.fields_encrypted is not JSON") from exc
    if not isinstance(fields, dict):
        raise RejectEvent("license.fields_encrypted is not a JSON object")
    problems = kind.problems(fields)
    if problems:
        raise RejectEvent(f"{code}: {'; '.join(problems)}")
    if not 1 <= len(holder_name) <= 200:
        raise RejectEvent("holder name is empty or longer than 200 characters")
    if not 1 <= len(wanted.issuer) <= 200:
        raise RejectEvent("issuer is empty or longer than 200 characters")
    try:
        holder_id = normalise_holder_id(kind.holder_kind, holder)
    except ProblemError as exc:
        raise RejectEvent(f"holder id is not valid: {exc.detail}") from exc
    if cipher.blind_index(holder_id) != wanted.holder_index:
        raise RejectEvent("holder_index does not match the encrypted holder id")
    return _Checked(kind, holder_id, holder_name, {n: v.strip() for n, v in fields.items()})


async def issue_for_subcase(
    *,
    session: AsyncSession,
    outbox: Outbox,
    keyring: SealKeyring,
    cipher: PiiCipher,
    subcase: SubCaseDecidedIn,
    now: datetime,
) -> License | None:
    """The license an approved sub-case yields, issued once. None for a refusal, an
    approval without a license, or one whose license was issued when it first arrived."""
    wanted = subcase.license
    if subcase.decision != "approved" or wanted is None:
        return None
    license_id = license_id_for_subcase(subcase.subcase_id)
    if await session.get(License, license_id) is not None:
        return None  # issued when this decision first arrived
    checked = _checked(wanted, cipher)
    issued_at = whole_seconds(now)
    return await issue(
        session=session,
        outbox=outbox,
        keyring=keyring,
        cipher=cipher,
        license_id=license_id,
        license_type=wanted.license_type,
        holder_kind=checked.kind.holder_kind,
        holder_id=checked.holder_id,
        holder_name=checked.holder_name,
        fields=checked.fields,
        issuer=wanted.issuer,
        issued_by=f"decision:{subcase.decided_by}"[:200],
        issued_at=issued_at,
        valid_until=checked.kind.valid_until(issued_at),
        case_id=subcase.case_id,
        subcase_id=subcase.subcase_id,
    )


async def revoke(
    *,
    session: AsyncSession,
    outbox: Outbox,
    cipher: PiiCipher,
    idempotency: Idempotency,
    license_id: str,
    request: RevocationCreate,
    revoked_by: str,
    now: datetime,
) -> License:
    """Revoke a license and add its event to the caller's transaction; a retry with the
    same ``Idempotency-Key`` answers the license as it is."""
    payload = {"license_id": license_id, **request.model_dump(mode="json")}
    prior = await idempotency.replay(session, revoked_by, payload=payload, cipher=cipher)
    license = await session.get(License, license_id, with_for_update=True)
    if license is None:
        raise license_not_found()
    if prior is not None:
        return license
    if license.status == "revoked":
        raise ProblemError(
            409, "license_already_revoked", "证照已吊销", title_en="License already revoked"
        )
    license.status = "revoked"
    license.revoked_at = whole_seconds(now)
    license.revoked_by = revoked_by
    license.revocation_reason = mask(request.reason)
    await session.flush()
    await outbox.add(
        session,
        LicenseRevoked(
            **_about(license), revoked_at=license.revoked_at, reason=license.revocation_reason
        ),
        key=license.license_id,
    )
    await idempotency.remember(session, 200, resource_id=license.license_id)
    return license
