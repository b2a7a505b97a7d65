"""/api/v1/matters/search: find bundles and matters by what people say."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from matters.api.deps import PrincipalDep, SearchIndexDep, SessionDep
from matters.schemas import SearchResult

router = APIRouter(prefix="/api/v1/matters/search", tags=["search"])


@router.get(
    "",
    response_model=SearchResult,
    summary="Search bundles and matters in Chinese",
    description="jieba tokens of the query against each current version's name, keywords "
    "(synonyms from the catalogue) and description, ranked with BM25; best first.",
)
async def search(
    session: SessionDep,
    index: SearchIndexDep,
    _principal: PrincipalDep,
    q: Annotated[str, Query(min_length=1, max_length=100, description="如：孩子出生要办什么")],
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> SearchResult:
    return SearchResult(query=q, items=await index.search(session, q, limit=limit))
