"""/api/v1/matters/matters: publish and list matters."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query
from fastapi.responses import JSONResponse

from matters import catalogue
from matters.models import idempotency
from matters.schemas import MatterCreate, MatterRead
from yiwang_platform.errors import ProblemError
from yiwang_platform.idempotency import remember, replay, request_hash
from yiwang_platform.pagination import Page, decode_cursor, encode_cursor
from yiwang_platform.service import PrincipalDep, RuntimeDep, SessionDep

router = APIRouter(prefix="/api/v1/matters/matters", tags=["matters"])

# Principal types that may publish to the catalogue; everyone authenticated may read it.
PUBLISHERS = {"staff", "operator"}


@router.post(
    "", status_code=201, response_model=MatterRead, summary="Publish a new version of a matter"
)
async def publish_matter(
    body: MatterCreate,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: PrincipalDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> JSONResponse:
    if principal.principal_type not in PUBLISHERS:
        raise ProblemError(
            403, "forbidden", "无权访问", "publishing matters is for catalogue staff"
        )
    digest = request_hash(body.model_dump())
    async with session.begin():
        stored = await replay(session, idempotency, principal.subject, idempotency_key, digest)
        if stored is not None:
            return JSONResponse(stored[1], status_code=stored[0])
        matter = await catalogue.publish(session, runtime.outbox, body)
        result = MatterRead.model_validate(matter).model_dump(mode="json")
        await remember(
            session, idempotency, principal.subject, idempotency_key, digest, 201, result
        )
    return JSONResponse(result, status_code=201)


@router.get("", response_model=Page[MatterRead], summary="List the current version of every matter")
async def list_matters(
    session: SessionDep,
    _principal: PrincipalDep,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[MatterRead]:
    rows = await catalogue.current_versions(session, decode_cursor(cursor), limit)
    next_cursor = encode_cursor(rows[-1].code) if len(rows) == limit else None
    return Page[MatterRead](
        items=[MatterRead.model_validate(r) for r in rows], next_cursor=next_cursor
    )


@router.get("/{code}", response_model=MatterRead, summary="The current version of a matter")
async def get_matter(code: str, session: SessionDep, _principal: PrincipalDep) -> MatterRead:
    matter = await catalogue.current(session, code)
    if matter is None:
        raise ProblemError(404, "matter_not_found", "事项不存在", title_en="Matter not found")
    return MatterRead.model_validate(matter)
