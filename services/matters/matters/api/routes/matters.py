"""/api/v1/matters/matters: publish and read matters (事项)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse

from matters import catalogue
from matters.api.access import require_publisher, search_index
from matters.models import idempotency
from matters.schemas import MATTER_CODE, MatterCreate, MatterRead
from yiwang_platform.errors import ProblemError
from yiwang_platform.idempotency import remember, replay, request_hash
from yiwang_platform.pagination import Page, decode_id, encode_key
from yiwang_platform.service import PrincipalDep, RuntimeDep, SessionDep

router = APIRouter(prefix="/api/v1/matters/matters", tags=["matters"])


@router.post(
    "",
    status_code=201,
    response_model=MatterRead,
    summary="Publish a new version of a matter",
    description="Catalogue staff only. Emits `gov.matters.matter.published.v1` in the same "
    "transaction. `Idempotency-Key` replays the first answer.",
)
async def publish_matter(
    body: MatterCreate,
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: PrincipalDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> JSONResponse:
    require_publisher(principal)
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
    search_index(request).mark_stale()
    return JSONResponse(result, status_code=201)


@router.get("", response_model=Page[MatterRead], summary="List the current version of every matter")
async def list_matters(
    session: SessionDep,
    _principal: PrincipalDep,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    main_item: Annotated[
        str | None, Query(pattern=MATTER_CODE, description="只列出该主项下的子项")
    ] = None,
) -> Page[MatterRead]:
    rows = await catalogue.current_versions(session, decode_id(cursor), limit, main_item)
    next_cursor = encode_key(rows[-1].code) if len(rows) == limit else None
    return Page[MatterRead](
        items=[MatterRead.model_validate(r) for r in rows], next_cursor=next_cursor
    )


@router.get(
    "/{code}",
    response_model=MatterRead,
    summary="The current (or a given) version of a matter with all its elements",
)
async def get_matter(
    code: str,
    session: SessionDep,
    _principal: PrincipalDep,
    version: Annotated[int | None, Query(ge=1)] = None,
) -> MatterRead:
    matter = await catalogue.current(session, code, version)
    if matter is None:
        raise ProblemError(404, "matter_not_found", "事项不存在", title_en="Matter not found")
    return MatterRead.model_validate(matter)
