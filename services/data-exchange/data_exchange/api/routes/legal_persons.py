"""/api/v1/data-exchange/legal-persons: county batches into the legal-person library (法人库),
the scenario-scoped read of the enterprise the caller acts for, and its 核验."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from data_exchange import legal_persons
from data_exchange.api.deps import CountyOrStaffDep
from data_exchange.schemas import BatchResults, LegalPersonBatch, VerifyRequest
from yiwang_platform.deps import CipherDep, OutboxDep, PrincipalDep, SessionDep
from yiwang_platform.idempotency import IdempotencyDep

router = APIRouter(prefix="/api/v1/data-exchange/legal-persons", tags=["legal persons"])


@router.post(
    "/records",
    response_model=BatchResults,
    summary="Upsert a batch of county legal-person records (up to 500), each on its own",
)
async def upsert_records(
    body: LegalPersonBatch,
    session: SessionDep,
    outbox: OutboxDep,
    principal: CountyOrStaffDep,
    cipher: CipherDep,
    idempotency: IdempotencyDep,
) -> JSONResponse:
    answer = await legal_persons.push_batch(
        session=session,
        outbox=outbox,
        idempotency=idempotency,
        principal=principal,
        cipher=cipher,
        batch=body,
    )
    return JSONResponse(answer.body, status_code=answer.status)


@router.get(
    "/self",
    summary="The enterprise the caller acts for, or a founder represents (企业开办): "
    "only the fields the scenario grants",
    responses={
        200: {"description": "granted fields only, e.g. {name, uscc, legal_representative}"},
        404: {"description": "no legal-person record for the enterprise"},
    },
)
async def own_enterprise(
    session: SessionDep, outbox: OutboxDep, principal: PrincipalDep, cipher: CipherDep
) -> dict[str, object]:
    async with session.begin():
        view = await legal_persons.own_view(
            session=session, outbox=outbox, principal=principal, cipher=cipher
        )
    if view is None:
        raise legal_persons.not_found()
    return view


@router.post(
    "/verify",
    summary="核验 of the enterprise the caller acts for: true/false per claimed field",
)
async def verify(
    body: VerifyRequest,
    session: SessionDep,
    outbox: OutboxDep,
    principal: PrincipalDep,
    cipher: CipherDep,
) -> dict[str, bool]:
    async with session.begin():
        return await legal_persons.verify_claims(
            session=session, outbox=outbox, principal=principal, cipher=cipher, claims=body.claims
        )
