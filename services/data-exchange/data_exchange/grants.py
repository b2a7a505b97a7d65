"""Field grants from the internal token, enforced again here (defence in depth).

The gateway decides which scenario a request runs under and puts the scenario's
grant (library -> fields) and subject binding in the internal token. Whatever a
handler could read, it answers only the granted fields, and only about the subject
the binding names: ``self`` — the caller's own identifier; ``case`` — the applicant
of the case the gateway checked (``bind_subject_index``, a blind index), present at
the window or confirmed in their app (``bind_presence``); ``org`` — the
enterprise the caller acts for (an ``enterprise`` principal, whose subject the gateway
sets to the enterprise's unified social credit code).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from data_exchange.identifiers import InvalidRecord, checked_resident_id, checked_uscc
from data_exchange.models import LegalPersonRecord, PopulationRecord
from yiwang_platform.errors import ProblemError
from yiwang_platform.internal_token import InternalPrincipal
from yiwang_platform.pii import PiiCipher

POPULATION_FIELDS = (
    "name",
    "sex",
    "ethnicity",
    "birth_date",
    "household_address",
    "marital_status",
)
_ENCRYPTED = {"name", "household_address"}
_BLIND_INDEX = re.compile(r"^[0-9a-f]{64}$")

# legal_representative reads as the representative's name.
LEGAL_PERSON_FIELDS = (
    "name",
    "uscc",
    "entity_type",
    "legal_representative",
    "registered_address",
    "business_scope",
    "established_on",
    "status",
)
# Fields that can be verified (核验) when granted but are never returned by a read.
VERIFY_ONLY = {"legal_person": ("legal_representative_id_number",)}
_LIBRARIES = {
    "population": POPULATION_FIELDS,
    "legal_person": LEGAL_PERSON_FIELDS + VERIFY_ONLY["legal_person"],
}


def granted(principal: InternalPrincipal, library: str) -> list[str]:
    """The fields of ``library`` the token grants, in library order; 403 ``no_grant`` if none."""
    grant = principal.grant if isinstance(principal.grant, dict) else {}
    listed = grant.get(library)
    fields = set(listed) if isinstance(listed, list) else set()
    allowed = [f for f in _LIBRARIES.get(library, ()) if f in fields]
    if not principal.scenario or not allowed:
        raise ProblemError(
            403,
            "no_grant",
            "当前业务场景未授权读取该数据",
            f"the request's scenario grants no {library} fields",
            title_en="No grant for this library",
        )
    return allowed


def _wrong_binding(expected: str) -> ProblemError:
    return ProblemError(
        403,
        "binding_mismatch",
        "业务场景的主体绑定不适用于该接口",
        f"this route serves scenarios bound to {expected}",
        title_en="Scenario binding does not fit this route",
    )


def subject_index(principal: InternalPrincipal, cipher: PiiCipher, *kinds: str) -> str:
    """The blind index of the subject the token binds, if its binding is one of ``kinds``."""
    binding = principal.claims.get("bind")
    if binding not in kinds:
        raise _wrong_binding(" or ".join(kinds))
    if binding == "self":
        return cipher.blind_index(principal.subject)
    index = principal.claims.get("bind_subject_index")
    if binding != "case" or principal.principal_type != "staff":
        raise _wrong_binding(" or ".join(kinds))
    if not isinstance(index, str) or not _BLIND_INDEX.match(index):
        raise ProblemError(
            403,
            "binding_missing",
            "缺少办件绑定的申请人",
            "the token names no case applicant",
            title_en="No bound subject",
        )
    # The gateway binds a case only once the applicant's presence is recorded on it.
    if not principal.claims.get("bind_presence"):
        raise ProblemError(
            403,
            "applicant_presence_required",
            "申请人到场核验后方可查询申请人信息",
            "the case binding records no presence of the applicant",
            title_en="The applicant's presence is required",
        )
    return index


def org_code(principal: InternalPrincipal) -> str:
    """The credit code of the enterprise an ``org``-bound token acts for."""
    if principal.claims.get("bind") != "org" or principal.principal_type != "enterprise":
        raise _wrong_binding("org (enterprises)")
    try:
        return checked_uscc(principal.subject)
    except InvalidRecord as exc:
        raise ProblemError(
            403,
            "binding_missing",
            "缺少企业统一社会信用代码",
            "the caller acts for no enterprise with a valid credit code",
            title_en="No bound enterprise",
        ) from exc


async def population_record(session: AsyncSession, index: str) -> PopulationRecord | None:
    return await session.scalar(select(PopulationRecord).where(PopulationRecord.id_index == index))


def _value(row: PopulationRecord, name: str, *, cipher: PiiCipher) -> Any:
    value = getattr(row, name)
    if value is not None and name in _ENCRYPTED:
        return cipher.decrypt(value)
    return value


def population_view(
    row: PopulationRecord, fields: list[str], *, cipher: PiiCipher
) -> dict[str, Any]:
    """Exactly the granted fields of the record (dates as ISO text)."""
    view: dict[str, Any] = {}
    for name in fields:
        value = _value(row, name, cipher=cipher)
        view[name] = value.isoformat() if isinstance(value, date) else value
    return view


def legal_person_view(
    row: LegalPersonRecord, fields: list[str], *, cipher: PiiCipher
) -> dict[str, Any]:
    """Exactly the granted readable fields of the record (dates as ISO text)."""
    values: dict[str, Any] = {
        "name": row.name,
        "uscc": row.uscc,
        "entity_type": row.entity_type,
        "registered_address": row.registered_address,
        "business_scope": row.business_scope,
        "established_on": row.established_on.isoformat(),
        "status": row.status,
    }
    view = {}
    for name in fields:
        if name == "legal_representative":
            view[name] = cipher.decrypt(row.representative_name)
        elif name in values:
            view[name] = values[name]
    return view


def _normalised(value: Any) -> str:
    if isinstance(value, date):
        value = value.isoformat()
    return "" if value is None else "".join(str(value).split()).upper()


def _only_granted(claims: dict[str, str], fields: list[str]) -> None:
    refused = sorted(set(claims) - set(fields))
    if refused:
        raise ProblemError(
            403,
            "field_not_granted",
            "当前业务场景未授权核验该字段",
            f"not granted: {', '.join(refused)}",
            title_en="Field not granted",
            fields=refused,
        )


def verify(
    row: PopulationRecord | None, claims: dict[str, str], *, fields: list[str], cipher: PiiCipher
) -> dict[str, bool]:
    """核验: whether each claimed value matches the record — every claimed field must be
    granted (403 ``field_not_granted``); no record answers false throughout."""
    _only_granted(claims, fields)
    if row is None:
        return dict.fromkeys(claims, False)
    answers = {}
    for name, claimed in claims.items():
        stored = _value(row, name, cipher=cipher)
        answers[name] = stored is not None and _normalised(claimed) == _normalised(stored)
    return answers


def verify_legal_person(
    row: LegalPersonRecord | None,
    claims: dict[str, str],
    *,
    fields: list[str],
    cipher: PiiCipher,
) -> dict[str, bool]:
    """核验 of a legal person, as ``verify``. The representative's ID number is compared
    by its blind index: it is never decrypted for this."""
    _only_granted(claims, fields)
    if row is None:
        return dict.fromkeys(claims, False)
    answers = {}
    for name, claimed in claims.items():
        if name == "legal_representative_id_number":
            try:
                number = checked_resident_id(claimed, name)
            except InvalidRecord:
                answers[name] = False
                continue
            answers[name] = cipher.blind_index(number) == row.representative_index
            continue
        stored = legal_person_view(row, [name], cipher=cipher).get(name)
        answers[name] = stored is not None and _normalised(claimed) == _normalised(stored)
    return answers
