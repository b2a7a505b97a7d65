"""Scenario-scoped reads of the population library and 核验 (verification without
disclosure). Only what the internal token's grant names, about the bound subject."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from data_exchange import grants
from data_exchange.api.deps import CipherDep
from yiwang_platform.errors import ProblemError
from yiwang_platform.service import PrincipalDep, SessionDep

router = APIRouter(prefix="/api/v1/exchange", tags=["population"])

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
    fields = grants.granted(principal, "population")
    # The subject is the caller: any id in the query is ignored.
    row = await grants.population_record(session, grants.subject_index(principal, cipher, "self"))
    if row is None:
        raise _not_found()
    return grants.population_view(row, fields, cipher)


@router.get(
    "/population/people/bound",
    summary="The applicant of the case in hand (staff): only the fields the scenario grants",
    responses={200: {"description": "granted fields only, e.g. {name, sex}"}},
)
async def bound_record(
    session: SessionDep, principal: PrincipalDep, cipher: CipherDep
) -> dict[str, Any]:
    fields = grants.granted(principal, "population")
    row = await grants.population_record(session, grants.subject_index(principal, cipher, "case"))
    if row is None:
        raise _not_found()
    return grants.population_view(row, fields, cipher)


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
    return grants.verify(row, body.claims, fields, cipher)
