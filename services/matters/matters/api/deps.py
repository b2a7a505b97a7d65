"""The matters API's dependencies: the platform's, its search index and who publishes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

from fastapi import Depends
from pydantic import BaseModel

from matters.catalogue import require_publisher
from matters.search import SearchIndex
from yiwang_platform.deps import (
    OutboxDep,
    PrincipalDep,
    ReadSessionDep,
    SessionDep,
    collaborators_of,
)
from yiwang_platform.idempotency import IdempotencyDep
from yiwang_platform.internal_token import InternalPrincipal

T = TypeVar("T")

__all__ = [
    "IdempotencyDep",
    "OutboxDep",
    "PrincipalDep",
    "PublisherDep",
    "PublishingDep",
    "ReadSessionDep",
    "SearchIndexDep",
    "SessionDep",
]

SearchIndexDep = Annotated[SearchIndex, Depends(collaborators_of(SearchIndex))]
# Operators, and staff with the role ``catalogue``; 403 for anyone else.
PublisherDep = Annotated[InternalPrincipal, Depends(require_publisher)]


class Publishing:
    """A publisher's new version (of a matter or a bundle): published once per
    ``Idempotency-Key`` in one transaction with its event; the search index then rebuilt."""

    def __init__(
        self,
        *,
        session: SessionDep,
        outbox: OutboxDep,
        idempotency: IdempotencyDep,
        publisher: PublisherDep,
        index: SearchIndexDep,
    ) -> None:
        self.session = session
        self.outbox = outbox
        self.idempotency = idempotency
        self.publisher = publisher
        self.index = index

    async def publish(self, step: Callable[..., Awaitable[T]], data: BaseModel) -> T:
        """``step(session, outbox, idempotency=, publisher=, data=)``, a ``catalogue``
        publication."""
        async with self.session.begin():
            published = await step(
                self.session,
                self.outbox,
                idempotency=self.idempotency,
                publisher=self.publisher,
                data=data,
            )
        self.index.mark_stale()
        return published


PublishingDep = Annotated[Publishing, Depends()]
