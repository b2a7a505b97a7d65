"""Who sees and does what: supervisors and operators oversee everything; citizens only
post reviews; department staff handle their own department's bad reviews."""

from __future__ import annotations

from yiwang_platform.errors import ProblemError
from yiwang_platform.internal_token import InternalPrincipal

# Dashboards and lists are for supervisors and operators; citizens only post reviews.
OVERSEERS = {"supervisor", "operator"}


def staff_department(principal: InternalPrincipal) -> str | None:
    """The department of a staff member (the gateway's ``dept`` claim), else None."""
    if principal.principal_type != "staff":
        return None
    department = principal.claims.get("dept")
    return department if isinstance(department, str) and department else None


def _not_for_handlings() -> ProblemError:
    return ProblemError(
        403, "forbidden", "无权访问", "review handlings are for supervisors and department staff"
    )


def handlings_department(principal: InternalPrincipal, asked: str | None) -> str | None:
    """The department whose handling items the caller lists: ``asked`` (None: every
    department) for overseers, their own for department staff; 403 for anyone else."""
    if principal.principal_type in OVERSEERS:
        return asked
    own = staff_department(principal)
    if own is None or asked not in (None, own):
        raise _not_for_handlings()
    return own


def resolver_department(principal: InternalPrincipal) -> str | None:
    """The department whose handling items the caller may close (None: a supervisor,
    any); 403 for anyone else, operators included."""
    if principal.principal_type == "supervisor":
        return None
    department = staff_department(principal)
    if department is None:
        raise _not_for_handlings()
    return department
