"""/api/v1/matters/matters: publish and read matters (事项)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from matters import catalogue
from matters.api.access import require_publisher, search_index
from matters.models import Matter
from matters.schemas import MATTER_CODE, MatterCreate, MatterRead
from yiwang_platform.deps import PrincipalDep, RuntimeDep, SessionDep
from yiwang_platform.errors import ProblemError
from yiwang_platform.idempotency import IdempotencyDep
from yiwang_platform.pagination import Page, decode_id, encode_key

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
    idempotency: IdempotencyDep,
) -> JSONResponse:
    require_publisher(principal)
    async with session.begin():
        prior = await idempotency.replay(session, principal.subject, body.model_dump())
        if prior is not None:
            matter = await session.get_one(Matter, int(prior.resource_id or 0))
        else:
            matter = await catalogue.publish(session, runtime.outbox, body)
            await idempotency.remember(session, 201, resource_id=str(matter.id))
        result = MatterRead.model_validate(matter).model_dump(mode="json")
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
