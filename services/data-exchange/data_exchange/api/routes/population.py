"""/api/v1/data-exchange/population/records: county batches in, masked records out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from data_exchange import population
from data_exchange.api.deps import CountyOrStaffDep, FaceMatcherDep
from data_exchange.schemas import BatchResults, PopulationBatch, PopulationRecordRead
from yiwang_platform.deps import CipherDep, OutboxDep, SessionDep
from yiwang_platform.idempotency import IdempotencyDep
from yiwang_platform.pagination import Page

router = APIRouter(prefix="/api/v1/data-exchange/population/records", tags=["population"])


@router.post(
    "",
    response_model=BatchResults,
    summary="Upsert a batch of county population records (up to 500), each on its own",
)
async def upsert_records(
    body: PopulationBatch,
    session: SessionDep,
    outbox: OutboxDep,
    principal: CountyOrStaffDep,
    cipher: CipherDep,
    matcher: FaceMatcherDep,
    idempotency: IdempotencyDep,
) -> JSONResponse:
    answer = await population.push_batch(
        session=session,
        outbox=outbox,
        idempotency=idempotency,
        principal=principal,
        cipher=cipher,
        matcher=matcher,
        batch=body,
    )
    return JSONResponse(answer.body, status_code=answer.status)


@router.get(
    "",
    response_model=Page[PopulationRecordRead],
    summary="Population records with ID numbers and names masked (staff and county systems)",
)
async def list_records(
    session: SessionDep,
    outbox: OutboxDep,
    principal: CountyOrStaffDep,
    cipher: CipherDep,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[PopulationRecordRead]:
    async with session.begin():
        rows, next_cursor = await population.listing(
            session=session, outbox=outbox, principal=principal, cursor=cursor, limit=limit
        )
    return Page[PopulationRecordRead](
        items=[PopulationRecordRead.of(r, cipher) for r in rows], next_cursor=next_cursor
    )
