"""Scenario-scoped reads of the population library and 核验 (verification without
disclosure). Only what the internal token's grant names, about the bound subject."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from data_exchange import people
from data_exchange.schemas import HouseholdRead, VerifyRequest
from yiwang_platform.deps import CipherDep, OutboxDep, PrincipalDep, SessionDep

router = APIRouter(prefix="/api/v1/data-exchange", tags=["population"])


@router.get(
    "/population/people/self",
    summary="The caller's own population record: only the fields the scenario grants",
    responses={200: {"description": "granted fields only, e.g. {name, sex}"}},
)
async def own_record(
    session: SessionDep, outbox: OutboxDep, principal: PrincipalDep, cipher: CipherDep
) -> dict[str, Any]:
    # The subject is the caller: any id in the query is ignored.
    async with session.begin():
        view = await people.granted_view(
            session=session, outbox=outbox, principal=principal, cipher=cipher, binding="self"
        )
    if view is None:
        raise people.not_found()
    return view


@router.get(
    "/population/people/bound",
    summary="The applicant of the case in hand (staff): only the fields the scenario grants",
    responses={200: {"description": "granted fields only, e.g. {name, sex}"}},
)
async def bound_record(
    session: SessionDep, outbox: OutboxDep, principal: PrincipalDep, cipher: CipherDep
) -> dict[str, Any]:
    async with session.begin():
        view = await people.granted_view(
            session=session, outbox=outbox, principal=principal, cipher=cipher, binding="case"
        )
    if view is None:
        raise people.not_found()
    return view


@router.get(
    "/population/household/self",
    response_model=HouseholdRead,
    summary="The caller, their spouse and household members (出生一件事 pre-fill): "
    "only the fields the scenario grants",
    responses={404: {"description": "no population record for the caller"}},
)
async def own_household(
    session: SessionDep, outbox: OutboxDep, principal: PrincipalDep, cipher: CipherDep
) -> HouseholdRead:
    async with session.begin():
        household = await people.own_household(
            session=session, outbox=outbox, principal=principal, cipher=cipher
        )
    if household is None:
        raise people.not_found()
    return household


@router.post(
    "/verify",
    summary="核验: does each claimed value match the bound subject's record (true/false only)",
)
async def verify(
    body: VerifyRequest,
    session: SessionDep,
    outbox: OutboxDep,
    principal: PrincipalDep,
    cipher: CipherDep,
) -> dict[str, bool]:
    async with session.begin():
        return await people.verify_claims(
            session=session, outbox=outbox, principal=principal, cipher=cipher, claims=body.claims
        )
