"""Scenario-scoped reads of the population library and 核验 (verification without
disclosure). Only what the internal token's grant names, about the bound subject."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy.ext.asyncio import AsyncSession

from data_exchange import grants, households
from data_exchange.access_audit import Accessed, record_access, record_accesses
from data_exchange.api.deps import CipherDep
from data_exchange.schemas import HouseholdRead
from yiwang_platform.deps import PrincipalDep, SessionDep
from yiwang_platform.errors import ProblemError
from yiwang_platform.internal_token import InternalPrincipal
from yiwang_platform.pii import PiiCipher

router = APIRouter(prefix="/api/v1/data-exchange", tags=["population"])

FieldName = Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,40}$")]
ClaimedValue = Annotated[str, StringConstraints(max_length=200)]


class VerifyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    claims: dict[FieldName, ClaimedValue] = Field(
        min_length=1, max_length=6, description="field -> claimed value, e.g. {name: 张三}"
    )


def _not_found() -> ProblemError:
    return ProblemError(404, "not_found", "资源不存在", "no population record for the subject")


@router.get(
    "/population/people/self",
    summary="The caller's own population record: only the fields the scenario grants",
    responses={200: {"description": "granted fields only, e.g. {name, sex}"}},
)
async def own_record(
    session: SessionDep, principal: PrincipalDep, cipher: CipherDep
) -> dict[str, Any]:
    # The subject is the caller: any id in the query is ignored.
    return await _granted_view(session, principal, cipher, "self")


@router.get(
    "/population/people/bound",
    summary="The applicant of the case in hand (staff): only the fields the scenario grants",
    responses={200: {"description": "granted fields only, e.g. {name, sex}"}},
)
async def bound_record(
    session: SessionDep, principal: PrincipalDep, cipher: CipherDep
) -> dict[str, Any]:
    return await _granted_view(session, principal, cipher, "case")


@router.get(
    "/population/household/self",
    response_model=HouseholdRead,
    summary="The caller, their spouse and household members (出生一件事 pre-fill): "
    "only the fields the scenario grants",
    responses={404: {"description": "no population record for the caller"}},
)
async def own_household(
    session: SessionDep, principal: PrincipalDep, cipher: CipherDep
) -> HouseholdRead:
    fields = grants.granted(principal, "population")
    index = grants.subject_index(principal, cipher, "self")
    row = await grants.population_record(session, index)
    if row is None:
        await _audit(session, principal, index, fields, "not_found")
        raise _not_found()
    found = await households.household_of(session, row)
    spouse = found.spouse
    answer = HouseholdRead(
        applicant=grants.population_view(row, fields, cipher),
        spouse=grants.population_view(spouse, fields, cipher) if spouse else None,
        same_household=found.same_household,
        household_members=[grants.population_view(m, fields, cipher) for m in found.members],
    )
    # One entry per person whose data the answer holds, each under their own index.
    names = [f"population.{f}" for f in fields]
    people = [row, *([spouse] if spouse else []), *found.members]
    await record_accesses(session, principal, [Accessed(p.id_index, names, "read") for p in people])
    return answer


@router.post(
    "/verify",
    summary="核验: does each claimed value match the bound subject's record (true/false only)",
)
async def verify(
    body: VerifyRequest, session: SessionDep, principal: PrincipalDep, cipher: CipherDep
) -> dict[str, bool]:
    fields = grants.granted(principal, "population")
    index = grants.subject_index(principal, cipher, "self", "case")
    row = await grants.population_record(session, index)
    answer = grants.verify(row, body.claims, fields, cipher)
    await _audit(session, principal, index, sorted(body.claims), "verified")
    return answer


async def _granted_view(
    session: AsyncSession, principal: InternalPrincipal, cipher: PiiCipher, binding: str
) -> dict[str, Any]:
    """The bound subject's record, granted fields only; the read is logged either way."""
    fields = grants.granted(principal, "population")
    index = grants.subject_index(principal, cipher, binding)
    row = await grants.population_record(session, index)
    view = grants.population_view(row, fields, cipher) if row is not None else None
    await _audit(session, principal, index, fields, "read" if view is not None else "not_found")
    if view is None:
        raise _not_found()
    return view


async def _audit(
    session: AsyncSession,
    principal: InternalPrincipal,
    index: str,
    fields: Iterable[str],
    outcome: str,
) -> None:
    """Every read or verification of a person's data goes into the access log, in the
    transaction of the read, before the answer leaves."""
    await record_access(session, principal, index, [f"population.{f}" for f in fields], outcome)
