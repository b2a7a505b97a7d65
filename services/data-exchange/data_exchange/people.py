"""Scenario-scoped reads of the population library and 核验 (verification without
disclosure): only what the internal token's grant names, about the subject its binding
names. Every read or verification of a person's data is logged in the transaction of
the read, before the answer leaves; a look-up that finds no one is logged as well."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from data_exchange import grants, households
from data_exchange.access_audit import Accessed, record_access, record_accesses
from data_exchange.schemas import HouseholdRead
from yiwang_platform.errors import ProblemError
from yiwang_platform.internal_token import InternalPrincipal
from yiwang_platform.outbox import Outbox
from yiwang_platform.pii import PiiCipher


def not_found() -> ProblemError:
    return ProblemError(404, "not_found", "资源不存在", "no population record for the subject")


async def granted_view(
    *,
    session: AsyncSession,
    outbox: Outbox,
    principal: InternalPrincipal,
    cipher: PiiCipher,
    binding: str,
) -> dict[str, Any] | None:
    """The bound subject's record, granted fields only (None: no record)."""
    fields = grants.granted(principal, "population")
    index = grants.subject_index(principal, cipher, binding)
    row = await grants.population_record(session, index)
    view = grants.population_view(row, fields, cipher=cipher) if row is not None else None
    await _log(
        session,
        principal,
        outbox=outbox,
        index=index,
        fields=fields,
        outcome="read" if view is not None else "not_found",
    )
    return view


async def own_household(
    *, session: AsyncSession, outbox: Outbox, principal: InternalPrincipal, cipher: PiiCipher
) -> HouseholdRead | None:
    """The caller, their spouse and household members, granted fields of each (None: the
    caller has no record). One entry per person whose data the answer holds."""
    fields = grants.granted(principal, "population")
    index = grants.subject_index(principal, cipher, "self")
    row = await grants.population_record(session, index)
    if row is None:
        await _log(
            session, principal, outbox=outbox, index=index, fields=fields, outcome="not_found"
        )
        return None
    found = await households.household_of(session, row)
    spouse = found.spouse
    answer = HouseholdRead(
        applicant=grants.population_view(row, fields, cipher=cipher),
        spouse=grants.population_view(spouse, fields, cipher=cipher) if spouse else None,
        same_household=found.same_household,
        household_members=[grants.population_view(m, fields, cipher=cipher) for m in found.members],
    )
    names = [f"population.{f}" for f in fields]
    people = [row, *([spouse] if spouse else []), *found.members]
    await record_accesses(
        session,
        principal,
        outbox=outbox,
        accesses=[Accessed(p.id_index, names, "read") for p in people],
    )
    return answer


async def verify_claims(
    *,
    session: AsyncSession,
    outbox: Outbox,
    principal: InternalPrincipal,
    cipher: PiiCipher,
    claims: dict[str, str],
) -> dict[str, bool]:
    """核验 of the bound subject (the caller, or a case's applicant): true/false per claim."""
    fields = grants.granted(principal, "population")
    index = grants.subject_index(principal, cipher, "self", "case")
    row = await grants.population_record(session, index)
    answer = grants.verify(row, claims, fields=fields, cipher=cipher)
    await _log(
        session, principal, outbox=outbox, index=index, fields=sorted(claims), outcome="verified"
    )
    return answer


async def _log(
    session: AsyncSession,
    principal: InternalPrincipal,
    *,
    outbox: Outbox,
    index: str,
    fields: Iterable[str],
    outcome: str,
) -> None:
    await record_access(
        session,
        principal,
        outbox=outbox,
        subject_index=index,
        fields=[f"population.{f}" for f in fields],
        outcome=outcome,
    )
