"""/api/v1/matters/bundles: publish and read bundles (一件事), and the smart guide."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from matters import catalogue, guide
from matters.api.deps import PrincipalDep, PublishingDep, ReadSessionDep
from matters.schemas import BundleCreate, BundleRead, GuideRequest, GuideResult
from yiwang_platform.pagination import Page

router = APIRouter(prefix="/api/v1/matters/bundles", tags=["bundles"])

PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}


@router.post(
    "",
    status_code=201,
    response_model=BundleRead,
    summary="Publish a new version of a bundle",
    description="Catalogue staff only. Every member must be a published matter; a member "
    "depends only on members listed before it; the guide refers to members and their "
    "situations. Broken rules answer 422 `bundle_invalid` with every problem in `errors`. "
    "Emits `gov.matters.bundle.published.v1` in the same transaction.",
    responses={422: {"description": "Invalid bundle", **PROBLEM}},
)
async def publish_bundle(body: BundleCreate, publishing: PublishingDep) -> BundleRead:
    return await publishing.publish(catalogue.publish_bundle_once, body)


@router.get("", response_model=Page[BundleRead], summary="List the current version of every bundle")
async def list_bundles(
    session: ReadSessionDep,
    _principal: PrincipalDep,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[BundleRead]:
    items, next_cursor = await catalogue.list_bundles(session, cursor, limit=limit)
    return Page[BundleRead](items=items, next_cursor=next_cursor)


@router.get(
    "/{code}",
    response_model=BundleRead,
    summary="The current (or a given) version of a bundle",
    description="Members carry the name and version of their current matter version; "
    "`materials` is the union of the members' materials, each material code once.",
    responses={404: {"description": "No such bundle", **PROBLEM}},
)
async def get_bundle(
    code: str,
    session: ReadSessionDep,
    _principal: PrincipalDep,
    version: Annotated[int | None, Query(ge=1)] = None,
) -> BundleRead:
    bundle = await catalogue.get_bundle(session, code, version=version)
    return await catalogue.read_bundle(session, bundle)


@router.post(
    "/{code}/guide",
    response_model=GuideResult,
    summary="Smart guide: answers so far → applicable matters and materials",
    description=(
        'Request `{"answers": {"<question id>": <value>}}`: `true`/`false` for boolean '
        "questions, an option value for choice questions. Questions below an option not "
        "chosen are not asked and their answers are ignored. The answer lists the "
        "questions still open (`complete` is false while any is), the member matters that "
        "apply in the order they are done (current matter versions; `depends_on` names only "
        "applicable matters), and the material set (一套材料) the applicant brings: each "
        "material code once, in its strongest form, key if any matter holds it key, without "
        "materials whose e-license an applicable matter of the same application issues. "
        "An unknown question id or a value a question does not offer answers 422 "
        "`guide_answers_invalid`, every problem listed in `errors`. Stateless and "
        "side-effect free: intake calls it at submission."
    ),
    responses={
        404: {"description": "No such bundle", **PROBLEM},
        422: {"description": "Unknown questions or invalid answers", **PROBLEM},
    },
)
async def run_guide(
    code: str,
    body: GuideRequest,
    session: ReadSessionDep,
    _principal: PrincipalDep,
    version: Annotated[int | None, Query(ge=1, description="默认当前版本")] = None,
) -> GuideResult:
    return await guide.answer(session, code, version=version, answers=body.answers)
