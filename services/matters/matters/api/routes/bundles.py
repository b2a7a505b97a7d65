"""/api/v1/matters/bundles: publish and read bundles (一件事), and the smart guide."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from matters import catalogue, guide
from matters.api.access import require_publisher, search_index
from matters.models import Bundle
from matters.schemas import BundleCreate, BundleRead, GuideRequest, GuideResult
from yiwang_platform.deps import PrincipalDep, RuntimeDep, SessionDep
from yiwang_platform.errors import ProblemError
from yiwang_platform.idempotency import IdempotencyDep
from yiwang_platform.pagination import Page, decode_id, encode_key

router = APIRouter(prefix="/api/v1/matters/bundles", tags=["bundles"])

PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}


def not_found() -> ProblemError:
    return ProblemError(404, "bundle_not_found", "一件事不存在", title_en="Bundle not found")


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
async def publish_bundle(
    body: BundleCreate,
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
            code, _, version = (prior.resource_id or "").rpartition("@")
            bundle = await catalogue.read_bundle(session, await find(session, code, int(version)))
        else:
            bundle = await catalogue.publish_bundle(session, runtime.outbox, body)
            await idempotency.remember(session, 201, resource_id=f"{bundle.code}@{bundle.version}")
        result = bundle.model_dump(mode="json")
    search_index(request).mark_stale()
    return JSONResponse(result, status_code=201)


@router.get("", response_model=Page[BundleRead], summary="List the current version of every bundle")
async def list_bundles(
    session: SessionDep,
    _principal: PrincipalDep,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[BundleRead]:
    rows = await catalogue.current_bundles(session, decode_id(cursor), limit)
    next_cursor = encode_key(rows[-1].code) if len(rows) == limit else None
    return Page[BundleRead](
        items=[await catalogue.read_bundle(session, r) for r in rows], next_cursor=next_cursor
    )


async def find(session: AsyncSession, code: str, version: int | None) -> Bundle:
    bundle = await catalogue.current_bundle(session, code, version)
    if bundle is None:
        raise not_found()
    return bundle


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
    session: SessionDep,
    _principal: PrincipalDep,
    version: Annotated[int | None, Query(ge=1)] = None,
) -> BundleRead:
    return await catalogue.read_bundle(session, await find(session, code, version))


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
    session: SessionDep,
    _principal: PrincipalDep,
    version: Annotated[int | None, Query(ge=1, description="默认当前版本")] = None,
) -> GuideResult:
    bundle = await find(session, code, version)
    matters = await catalogue.current_of(session, [m["matter"] for m in bundle.members])
    return guide.evaluate(bundle, matters, body.answers)
