"""/api/v1/intake/cases/{case_id}/binding: for the gateway's scenario decisions only."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from intake import applications
from yiwang_platform.errors import ProblemError
from yiwang_platform.service import PrincipalDep, SessionDep

router = APIRouter(prefix="/api/v1/intake/cases", tags=["cases"])


class CaseBinding(BaseModel):
    applicant_index: str = Field(description="blind index of the applicant's identifier")
    assigned_to: str | None = Field(description="the staff member the case is assigned to")


@router.get(
    "/{case_id}/binding",
    response_model=CaseBinding,
    summary="Who a case binds: its applicant (blind index) and assignee (gateway only)",
)
async def case_binding(case_id: str, session: SessionDep, principal: PrincipalDep) -> CaseBinding:
    # Only the gateway asks, with a token it mints for itself; callers routed through
    # the gateway carry their own principal type and are refused.
    if principal.principal_type != "gateway":
        raise ProblemError(403, "forbidden", "无权访问", "for the gateway only")
    case = await applications.binding_of(session, case_id)
    if case is None:
        raise ProblemError(404, "case_not_found", "办件不存在", title_en="Case not found")
    return CaseBinding(applicant_index=case.applicant_index, assigned_to=case.assigned_to)
