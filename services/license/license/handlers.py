"""Events the license service consumes: approved sub-cases that yield an e-license.

Intake sends the holder and the license's fields encrypted with the platform's PII
key. The license id is uuid5 of the sub-case, so a redelivered decision issues
nothing twice (the inbox guards too). An approval whose license cannot be issued
(unknown type, fields that do not fit it, a holder that does not check out) goes
to the dead-letter topic with the reason; refusals and approvals without a license
are recorded in the inbox and change nothing.
"""

from __future__ import annotations

import binascii
import json
from typing import Any, cast

from cryptography.exceptions import InvalidTag
from sqlalchemy.ext.asyncio import AsyncSession

from license import issuance, types
from license.identifiers import normalise_holder_id
from license.keys import Keys
from license.models import License
from license.schemas import HolderKind
from yiwang_platform.consumer import Handler, RejectEvent
from yiwang_platform.errors import ProblemError
from yiwang_platform.events import CloudEvent
from yiwang_platform.outbox import Outbox
from yiwang_platform.pii import PiiCipher

CASE_TOPIC = "intake.case.v1"
SUBCASE_DECIDED = "gov.intake.subcase.decided.v1"


def _decrypt(cipher: PiiCipher, data: dict[str, Any], name: str) -> str:
    try:
        return cipher.decrypt(data[name])
    except (InvalidTag, binascii.Error, ValueError, UnicodeDecodeError) as exc:
        # Never the value: only which field could not be read.
        raise RejectEvent(f"license.{name} cannot be decrypted with the PII key") from exc


def build_handlers(keys: Keys, outbox: Outbox) -> dict[str, tuple[str, Handler]]:
    async def on_subcase_decided(session: AsyncSession, event: CloudEvent) -> None:
        data = event.data
        wanted = data.get("license")
        if data["decision"] != "approved" or wanted is None:
            return
        license_id = issuance.license_id_for_subcase(data["subcase_id"])
        if await session.get(License, license_id) is not None:
            return  # issued when this decision first arrived
        code = wanted["license_type"]
        kind = types.lookup(code)
        if kind is None:
            raise RejectEvent(f"unknown license type {code!r}")
        if wanted["holder_kind"] != kind.holder_kind:
            raise RejectEvent(
                f"{code} is for {kind.holder_kind} holders, not {wanted['holder_kind']}"
            )

        cipher = keys.cipher
        holder = _decrypt(cipher, wanted, "holder_encrypted")
        holder_name = _decrypt(cipher, wanted, "holder_name_encrypted").strip()
        try:
            fields = json.loads(_decrypt(cipher, wanted, "fields_encrypted"))
        except json.JSONDecodeError as exc:
            raise RejectEvent("license.fields_encrypted is not JSON") from exc
        if not isinstance(fields, dict):
            raise RejectEvent("license.fields_encrypted is not a JSON object")
        problems = kind.problems(fields)
        if problems:
            raise RejectEvent(f"{code}: {'; '.join(problems)}")
        if not 1 <= len(holder_name) <= 200:
            raise RejectEvent("holder name is empty or longer than 200 characters")
        if not 1 <= len(wanted["issuer"]) <= 200:
            raise RejectEvent("issuer is empty or longer than 200 characters")
        try:
            holder_id = normalise_holder_id(cast(HolderKind, kind.holder_kind), holder)
        except ProblemError as exc:
            raise RejectEvent(f"holder id is not valid: {exc.detail}") from exc
        if cipher.blind_index(holder_id) != wanted["holder_index"]:
            raise RejectEvent("holder_index does not match the encrypted holder id")

        issued_at = issuance.now()
        await issuance.issue(
            session,
            outbox,
            keys.keyring,
            cipher,
            license_id=license_id,
            license_type=code,
            holder_kind=kind.holder_kind,
            holder_id=holder_id,
            holder_name=holder_name,
            fields={n: v.strip() for n, v in fields.items()},
            issuer=wanted["issuer"],
            issued_by=f"decision:{data['decided_by']}"[:200],
            issued_at=issued_at,
            valid_until=kind.valid_until(issued_at),
            case_id=data["case_id"],
            subcase_id=data["subcase_id"],
        )

    # event type -> (topic, handler)
    return {SUBCASE_DECIDED: (CASE_TOPIC, on_subcase_decided)}
