"""/api/v1/intake/subcases: each department's share of accepted cases (后台分类审批),
decided in parallel (并联审批)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import select

from intake import materials, review, workflow
from intake.api.dependencies import CipherDep
from intake.api.staff import reviewer_department
from intake.models import Case, SubCase
from intake.peers import PeersDep
from intake.schemas import Decision, SubCaseDetailRead, SubCaseRead
from yiwang_platform.deps import PrincipalDep, RuntimeDep, SessionDep
from yiwang_platform.errors import ProblemError
from yiwang_platform.pagination import Page, decode_id, encode_key
from yiwang_platform.peers import PeerClient, bearer_token

router = APIRouter(prefix="/api/v1/intake/subcases", tags=["sub-cases"])

PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}


def _read(s: SubCase) -> SubCaseRead:
    return SubCaseRead(
        subcase_id=s.id,
        matter_code=s.matter_code,
        matter_name=s.matter_name,
        department=s.department,
        status=s.status,
        depends_on=list(s.depends_on),
        due_date=s.due_date,
        decided_at=s.decided_at,
        reason=s.reason,
        license_type=s.license_type,
    )


async def license_type_of(
    peers: dict[str, PeerClient], request: Request, code: str
) -> dict[str, Any] | None:
    token = bearer_token(request.headers.get("authorization", ""))
    status, types = await peers["license"].call("GET", "/api/v1/license/license-types", token)
    if status != 200 or not isinstance(types, list):
        raise ProblemError(502, "peer_error", "依赖的服务返回错误", f"license answered {status}")
    return next((t for t in types if t.get("code") == code), None)


@router.get("", response_model=Page[SubCaseRead], summary="The caller's department's sub-cases")
async def list_subcases(
    session: SessionDep,
    principal: PrincipalDep,
    status: str = "routed",
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[SubCaseRead]:
    department = reviewer_department(principal)
    query = (
        select(SubCase)
        .where(SubCase.department == department, SubCase.status == status)
        .order_by(SubCase.id)
        .limit(limit)
    )
    after = decode_id(cursor)
    if after is not None:
        query = query.where(SubCase.id > after)
    rows = list((await session.scalars(query)).all())
    return Page[SubCaseRead](
        items=[_read(s) for s in rows],
        next_cursor=encode_key(rows[-1].id) if len(rows) == limit else None,
    )


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
    subcase_id: str, session: SessionDep, principal: PrincipalDep, cipher: CipherDep
) -> SubCaseDetailRead:
    department = reviewer_department(principal)
    async with session.begin():
        return await review.view(
            session,
            principal,
            subcase_id=subcase_id,
            department=department,
            cipher=cipher,
            now=datetime.now(UTC),
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
    subcase_id: str, upload_id: str, session: SessionDep, principal: PrincipalDep
) -> Response:
    department = reviewer_department(principal)
    async with session.begin():
        upload = await review.material(
            session,
            principal,
            subcase_id=subcase_id,
            upload_id=upload_id,
            department=department,
            now=datetime.now(UTC),
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
    runtime: RuntimeDep,
    principal: PrincipalDep,
    cipher: CipherDep,
    peers: PeersDep,
    request: Request,
) -> SubCaseRead:
    department = reviewer_department(principal)
    license_type = None
    if body.decision == "approved":
        # Asked before the transaction: what the e-license of this sub-case carries.
        license_code = await session.scalar(
            select(SubCase.license_type).where(
                SubCase.id == subcase_id, SubCase.department == department
            )
        )
        if session.in_transaction():
            await session.commit()
        if license_code:
            license_type = await license_type_of(peers, request, license_code)
    async with session.begin():
        subcase = await session.get(SubCase, subcase_id, with_for_update=True)
        # Another department's sub-case is as invisible as one that does not exist.
        if subcase is None or subcase.department != department:
            raise review.subcase_not_found()
        case = await session.get(Case, subcase.case_id, with_for_update=True)
        assert case is not None
        await workflow.decide(
            session,
            runtime.outbox,
            cipher,
            case,
            subcase,
            principal.subject,
            body.decision,
            body.reason,
            dict(body.fields),
            license_type=license_type,
        )
        return _read(subcase)
