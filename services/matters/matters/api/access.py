"""Who may do what: everyone the gateway authenticated reads; catalogue staff publish."""

from __future__ import annotations

from fastapi import Request

from matters.search import SearchIndex
from yiwang_platform.errors import ProblemError
from yiwang_platform.internal_token import InternalPrincipal

# Principal types that may publish to the catalogue; everyone authenticated may read it.
PUBLISHERS = {"staff", "operator"}


def require_publisher(principal: InternalPrincipal) -> None:
    if principal.principal_type not in PUBLISHERS:
        raise ProblemError(
            403, "forbidden", "无权访问", "publishing to the catalogue is for catalogue staff"
        )


def search_index(request: Request) -> SearchIndex:
    index: SearchIndex = request.app.state.search_index
    return index
