"""/api/v1/data-exchange/population/records: county batches in, masked records out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from data_exchange import access_audit, batches, population
from data_exchange.api.deps import CipherDep, FaceMatcherDep, require_type
from data_exchange.faces import FaceMatcherUnavailable
from data_exchange.identifiers import mask_id_number, mask_name
from data_exchange.schemas import (
    BatchResults,
    BatchSummary,
    PopulationBatch,
    PopulationRecordRead,
    RecordResult,
)
from yiwang_platform.deps import PrincipalDep, RuntimeDep, SessionDep
from yiwang_platform.errors import ProblemError
from yiwang_platform.idempotency import IdempotencyDep
from yiwang_platform.pagination import Page, decode_id, encode_key

router = APIRouter(prefix="/api/v1/data-exchange/population/records", tags=["population"])


@router.post(
    "",
    response_model=BatchResults,
    summary="Upsert a batch of county population records (up to 500), each on its own",
)
async def upsert_records(
    body: PopulationBatch,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: PrincipalDep,
    cipher: CipherDep,
    matcher: FaceMatcherDep,
    idempotency: IdempotencyDep,
) -> JSONResponse:
    require_type(principal, "county", "staff")
    payload = body.model_dump(mode="json")
    # Reference faces are encoded before the transaction, so no row is locked meanwhile.
    try:
        prepared = await population.prepare_batch(matcher, cipher, body.records)
    except FaceMatcherUnavailable as exc:
        raise ProblemError(
            503, "face_matcher_unavailable", "人脸比对服务暂不可用", headers={"Retry-After": "5"}
        ) from exc

    async def apply() -> JSONResponse:
        async with session.begin():
            prior = await idempotency.replay(session, principal.subject, payload, cipher=cipher)
            if prior is not None:  # per-record answers, not one resource: kept encrypted
                return JSONResponse(prior.body, status_code=prior.status)
            done = await population.upsert_batch(session, runtime.outbox, cipher, prepared)
            subjects = await access_audit.population_subjects(
                session, {r.record_id for r in done if r.record_id}
            )
            await access_audit.record_batch_writes(
                session, principal, "population", body.records, done, subjects
            )
            result = batch_results(done)
            await idempotency.remember(session, 200, body=result)
        return JSONResponse(result, status_code=200)

    return await batches.retry_once_on_conflict(apply)


def batch_results(done: list[batches.BatchResult]) -> dict[str, object]:
    return BatchResults(
        results=[
            RecordResult(index=r.index, status=r.status, record_id=r.record_id, reason=r.reason)
            for r in done
        ],
        summary=BatchSummary(**batches.summary(done)),
    ).model_dump(mode="json", exclude_none=True)


@router.get(
    "",
    response_model=Page[PopulationRecordRead],
    summary="Population records with ID numbers and names masked (staff and county systems)",
)
async def list_records(
    session: SessionDep,
    principal: PrincipalDep,
    cipher: CipherDep,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[PopulationRecordRead]:
    require_type(principal, "staff", "county")
    rows = await population.in_record_order(session, decode_id(cursor), limit)
    items = [
        PopulationRecordRead(
            record_id=r.record_id,
            id_number=mask_id_number(cipher.decrypt(r.id_number)),
            name=mask_name(cipher.decrypt(r.name)),
            sex=r.sex,
            ethnicity=r.ethnicity,
            birth_date=r.birth_date,
            marital_status=r.marital_status,
            source=r.source,
            source_version=r.source_version,
            updated_at=r.updated_at,
        )
        for r in rows
    ]
    next_cursor = encode_key(rows[-1].record_id) if len(rows) == limit else None
    await access_audit.record_accesses(
        session,
        principal,
        [access_audit.Accessed(r.id_index, access_audit.LISTED_FIELDS, "read") for r in rows],
    )
    return Page[PopulationRecordRead](items=items, next_cursor=next_cursor)
