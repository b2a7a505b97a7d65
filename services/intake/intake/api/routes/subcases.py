"""/api/v1/intake/subcases: each department's share of accepted cases (后台分类审批),
decided in parallel (并联审批)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from intake import materials, review
from intake.api.deps import CallerTokenDep, LicensePeerDep, ReviewerDep
from intake.schemas import (
    Decision,
    SubCaseDetailRead,
    SubCaseRead,
    subcase_detail_read,
    subcase_read,
)
from yiwang_platform.deps import CipherDep, NowDep, OutboxDep, PrincipalDep, SessionDep
from yiwang_platform.pagination import Page

router = APIRouter(prefix="/api/v1/intake/subcases", tags=["sub-cases"])

PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}


@router.get("", response_model=Page[SubCaseRead], summary="The caller's department's sub-cases")
async def list_subcases(
    session: SessionDep,
    department: ReviewerDep,
    status: str = "routed",
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[SubCaseRead]:
    rows, next_cursor = await review.queue(
        session, department=department, status=status, cursor=cursor, limit=limit
    )
    return Page[SubCaseRead](items=[subcase_read(s) for s in rows], next_cursor=next_cursor)


@router.get(
    "/{subcase_id}",
    response_model=SubCaseDetailRead,
    summary="One of the department's sub-cases with the case's form, its materials and the "
    "results of the sub-cases it depends on (logged on the case)",
    responses={
        403: {"description": "not a department reviewer", **PROBLEM},
        404: {"description": "no such sub-case in the caller's department", **PROBLEM},
    },
)
async def get_subcase(
    subcase_id: str,
    session: SessionDep,
    principal: PrincipalDep,
    department: ReviewerDep,
    cipher: CipherDep,
    now: NowDep,
) -> SubCaseDetailRead:
    async with session.begin():
        found = await review.view(
            session, principal, subcase_id=subcase_id, department=department, now=now
        )
        return subcase_detail_read(
            found.subcase,
            found.case,
            cipher=cipher,
            uploads=found.uploads,
            dependencies=found.dependencies,
        )


@router.get(
    "/{subcase_id}/materials/{upload_id}",
    summary="Download a material file of the sub-case's case, as uploaded (logged on the case)",
    response_class=Response,
    responses={
        200: {"description": "the file, as an attachment", "content": materials.DOWNLOAD_CONTENT},
        403: {"description": "not a department reviewer", **PROBLEM},
        404: {
            "description": "no such sub-case in the caller's department, or no such file "
            "among its case's materials",
            **PROBLEM,
        },
    },
)
async def download_material(
    subcase_id: str,
    upload_id: str,
    session: SessionDep,
    principal: PrincipalDep,
    department: ReviewerDep,
    now: NowDep,
) -> Response:
    async with session.begin():
        upload = await review.material(
            session,
            principal,
            subcase_id=subcase_id,
            upload_id=upload_id,
            department=department,
            now=now,
        )
        return materials.download(upload)


@router.post(
    "/{subcase_id}/decision",
    response_model=SubCaseRead,
    summary="审批决定: approve (issuing its e-license, if any) or refuse",
)
async def decide_subcase(
    subcase_id: str,
    body: Decision,
    session: SessionDep,
    outbox: OutboxDep,
    principal: PrincipalDep,
    department: ReviewerDep,
    cipher: CipherDep,
    licenses: LicensePeerDep,
    token: CallerTokenDep,
    now: NowDep,
) -> SubCaseRead:
    # The decision runs its own transactions: the license service is asked between them.
    subcase = await review.decide(
        session,
        outbox,
        subcase_id=subcase_id,
        department=department,
        reviewer=principal.subject,
        decision=body,
        cipher=cipher,
        licenses=licenses,
        token=token,
        now=now,
    )
    return subcase_read(subcase)
