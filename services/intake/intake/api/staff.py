"""Who may do what among staff: window clerks (role ``window``) handle cases at intake;
department reviewers (role ``reviewer``) decide their own department's sub-cases."""

from __future__ import annotations

from yiwang_platform.errors import ProblemError
from yiwang_platform.internal_token import InternalPrincipal


def _forbidden(detail: str) -> ProblemError:
    return ProblemError(403, "forbidden", "无权访问", detail, title_en="Forbidden")


def require_window_staff(principal: InternalPrincipal) -> None:
    if principal.principal_type != "staff" or "window" not in principal.claims.get("roles", []):
        raise _forbidden("for window staff only")


def reviewer_department(principal: InternalPrincipal) -> str:
    """The department of a reviewer; 403 for anyone else."""
    department = principal.claims.get("dept")
    if (
        principal.principal_type != "staff"
        or "reviewer" not in principal.claims.get("roles", [])
        or not department
    ):
        raise _forbidden("for department reviewers only")
    return str(department)
