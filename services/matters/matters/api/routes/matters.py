"""/api/v1/matters/matters: publish and read matters (事项)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from matters import catalogue
from matters.api.deps import PrincipalDep, PublishingDep, ReadSessionDep
from matters.schemas import MATTER_CODE, MatterCreate, MatterRead
from yiwang_platform.pagination import Page

router = APIRouter(prefix="/api/v1/matters/matters", tags=["matters"])


@router.post(
    "",
    status_code=201,
    response_model=MatterRead,
    summary="Publish a new version of a matter",
    description="Catalogue staff only. Emits `gov.matters.matter.published.v1` in the same "
    "transaction. `Idempotency-Key` replays the first answer.",
)
async def publish_matter(body: MatterCreate, publishing: PublishingDep) -> MatterRead:
    return MatterRead.model_validate(await publishing.publish(catalogue.publish_once, body))


@router.get("", response_model=Page[MatterRead], summary="List the current version of every matter")
async def list_matters(
    session: ReadSessionDep,
    _principal: PrincipalDep,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    main_item: Annotated[
        str | None, Query(pattern=MATTER_CODE, description="只列出该主项下的子项")
    ] = None,
) -> Page[MatterRead]:
    rows, next_cursor = await catalogue.list_matters(
        session, cursor, limit=limit, main_item=main_item
    )
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
    session: ReadSessionDep,
    _principal: PrincipalDep,
    version: Annotated[int | None, Query(ge=1)] = None,
) -> MatterRead:
    return MatterRead.model_validate(
        dict(await catalogue.get_matter(session, code, version=version))
    )
