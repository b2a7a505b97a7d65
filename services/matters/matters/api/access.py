"""Who may do what: everyone the gateway authenticated reads; catalogue staff publish."""

from __future__ import annotations

from fastapi import Request

from matters.search import SearchIndex
from yiwang_platform.errors import ProblemError
from yiwang_platform.internal_token import InternalPrincipal

# Who may publish to the catalogue: operators, and staff who keep it (role ``catalogue``);
# a window clerk or a reviewer may not. Everyone authenticated may read it.
CATALOGUE_ROLE = "catalogue"


def require_publisher(principal: InternalPrincipal) -> None:
    keeper = principal.principal_type == "staff" and CATALOGUE_ROLE in principal.claims.get(
        "roles", []
    )
    if principal.principal_type != "operator" and not keeper:
        raise ProblemError(
            403, "forbidden", "无权访问", "publishing to the catalogue is for catalogue staff"
        )


def search_index(request: Request) -> SearchIndex:
    index: SearchIndex = request.app.state.search_index
    return index
