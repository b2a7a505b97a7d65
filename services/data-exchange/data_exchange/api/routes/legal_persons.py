"""/api/v1/data-exchange/legal-persons: county batches into the legal-person library (法人库),
the scenario-scoped read of the enterprise the caller acts for, and its 核验."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from data_exchange import access_audit, batches, grants, legal_persons
from data_exchange.access_audit import Accessed, record_accesses
from data_exchange.api.deps import CipherDep, require_type
from data_exchange.api.routes.people import VerifyRequest
from data_exchange.api.routes.population import batch_results
from data_exchange.models import LegalPersonRecord
from data_exchange.schemas import BatchResults, LegalPersonBatch
from yiwang_platform.deps import PrincipalDep, RuntimeDep, SessionDep
from yiwang_platform.errors import ProblemError
from yiwang_platform.idempotency import IdempotencyDep
from yiwang_platform.internal_token import InternalPrincipal
from yiwang_platform.pii import PiiCipher

router = APIRouter(prefix="/api/v1/data-exchange/legal-persons", tags=["legal persons"])


@router.post(
    "/records",
    response_model=BatchResults,
    summary="Upsert a batch of county legal-person records (up to 500), each on its own",
)
async def upsert_records(
    body: LegalPersonBatch,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: PrincipalDep,
    cipher: CipherDep,
    idempotency: IdempotencyDep,
) -> JSONResponse:
    require_type(principal, "county", "staff")
    payload = body.model_dump(mode="json")
    parsed = legal_persons.parse_all(body.records)

    async def apply() -> JSONResponse:
        async with session.begin():
            prior = await idempotency.replay(session, principal.subject, payload, cipher=cipher)
            if prior is not None:  # per-record answers, not one resource: kept encrypted
                return JSONResponse(prior.body, status_code=prior.status)
            done = await legal_persons.upsert_batch(session, runtime.outbox, cipher, parsed)
            subjects = await legal_persons.subjects(
                session, cipher, {r.record_id for r in done if r.record_id}
            )
            await access_audit.record_batch_writes(
                session, principal, "legal_person", body.records, done, subjects
            )
            result = batch_results(done)
            await idempotency.remember(session, 200, body=result)
        return JSONResponse(result, status_code=200)

    return await batches.retry_once_on_conflict(apply)


def _readable(fields: list[str]) -> list[str]:
    readable = [f for f in fields if f not in grants.VERIFY_ONLY["legal_person"]]
    if not readable:
        raise ProblemError(
            403,
            "no_grant",
            "当前业务场景未授权读取该数据",
            "the request's scenario grants no readable legal_person fields",
            title_en="No grant for this library",
        )
    return readable


async def _audit(
    session: AsyncSession,
    principal: InternalPrincipal,
    cipher: PiiCipher,
    code: str | None,
    row: LegalPersonRecord | None,
    fields: list[str],
    outcome: str,
) -> None:
    """One entry for the enterprise; one more for its representative when their name or
    ID number was read or verified (so it shows in their own access log). No enterprise
    found for a founder: the look-up is logged under the founder."""
    names = [f"legal_person.{f}" for f in fields]
    subject = cipher.blind_index(code) if code else grants.subject_index(principal, cipher, "self")
    accesses = [Accessed(subject, names, outcome)]
    personal = [n for n in names if n.startswith("legal_person.legal_representative")]
    if row is not None and personal:
        accesses.append(Accessed(row.representative_index, personal, outcome))
    await record_accesses(session, principal, accesses)


async def _own(
    session: AsyncSession, principal: InternalPrincipal, cipher: PiiCipher
) -> tuple[str | None, LegalPersonRecord | None]:
    """The caller's enterprise: the one an enterprise acts for (``org``), or the one a
    citizen founder represents (``self``, 企业开办)."""
    if principal.claims.get("bind") == "self" and principal.principal_type == "citizen":
        row = await legal_persons.represented_by(
            session, grants.subject_index(principal, cipher, "self")
        )
        return (row.uscc if row is not None else None), row
    code = grants.org_code(principal)
    return code, await legal_persons.by_code(session, code)


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
    session: SessionDep, principal: PrincipalDep, cipher: CipherDep
) -> dict[str, object]:
    fields = _readable(grants.granted(principal, "legal_person"))
    code, row = await _own(session, principal, cipher)
    view = grants.legal_person_view(row, fields, cipher) if row is not None else None
    await _audit(
        session, principal, cipher, code, row, fields, "read" if view is not None else "not_found"
    )
    if view is None:
        raise ProblemError(404, "not_found", "资源不存在", "no legal-person record for the subject")
    return view


@router.post(
    "/verify",
    summary="核验 of the enterprise the caller acts for: true/false per claimed field",
)
async def verify(
    body: VerifyRequest, session: SessionDep, principal: PrincipalDep, cipher: CipherDep
) -> dict[str, bool]:
    fields = grants.granted(principal, "legal_person")
    code = grants.org_code(principal)
    row = await legal_persons.by_code(session, code)
    answer = grants.verify_legal_person(row, body.claims, fields, cipher)
    await _audit(session, principal, cipher, code, row, sorted(body.claims), "verified")
    return answer
