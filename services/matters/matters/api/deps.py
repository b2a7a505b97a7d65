"""The matters API's dependencies: the platform's, its search index and who publishes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from matters.catalogue import require_publisher
from matters.search import SearchIndex
from yiwang_platform.deps import OutboxDep, PrincipalDep, SessionDep, collaborators_of
from yiwang_platform.idempotency import IdempotencyDep
from yiwang_platform.internal_token import InternalPrincipal

__all__ = [
    "IdempotencyDep",
    "OutboxDep",
    "PrincipalDep",
    "PublisherDep",
    "SearchIndexDep",
    "SessionDep",
]

SearchIndexDep = Annotated[SearchIndex, Depends(collaborators_of(SearchIndex))]
# Operators, and staff with the role ``catalogue``; 403 for anyone else.
PublisherDep = Annotated[InternalPrincipal, Depends(require_publisher)]
