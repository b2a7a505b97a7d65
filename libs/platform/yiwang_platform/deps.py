"""Request dependencies every service's ``api/deps.py`` builds its aliases from.

Each reads from the service's runtime (``app.state.runtime``), so a route names what it
needs (``SessionDep``, ``OutboxDep``, ``CipherDep``, a peer, a role) and never reaches
into ``request.app.state`` itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_platform.errors import ProblemError
from yiwang_platform.internal_token import InternalPrincipal, InvalidInternalToken
from yiwang_platform.outbox import Outbox
from yiwang_platform.peers import PeerClient
from yiwang_platform.pii import PiiCipher
from yiwang_platform.service import Runtime, runtime_of
from yiwang_platform.settings import ServiceSettings

# Dependencies are ``async def``: FastAPI runs plain ``def`` dependencies in a worker
# thread, which on the hot path costs more than the work they do.

S = TypeVar("S", bound=ServiceSettings)


async def get_runtime(request: Request) -> Runtime:
    return runtime_of(request)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with runtime_of(request).sessions() as session:
        yield session


async def get_read_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A session for a route that only reads: on PostgreSQL its query runs outside a
    transaction (no BEGIN and ROLLBACK round trips). Never write through it."""
    async with runtime_of(request).read_sessions() as session:
        yield session


async def get_principal(request: Request) -> InternalPrincipal:
    """The caller, as vouched for by the gateway's internal token; 401 otherwise."""
    runtime = runtime_of(request)
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise ProblemError(401, "unauthenticated", "未认证或凭证无效", "internal token missing")
    try:
        return runtime.verifier.verify(token, audience=runtime.spec.name)
    except InvalidInternalToken as exc:
        raise ProblemError(
            401, "unauthenticated", "未认证或凭证无效", f"internal token rejected: {exc}"
        ) from exc


async def get_outbox(request: Request) -> Outbox:
    return runtime_of(request).outbox


async def get_cipher(request: Request) -> PiiCipher:
    return runtime_of(request).cipher


async def get_now(request: Request) -> datetime:
    """The service's clock (tests set ``runtime.clock`` instead of waiting)."""
    return runtime_of(request).clock()


def settings_of(cls: type[S]) -> Callable[[Request], Awaitable[S]]:
    """A dependency answering the service's own settings, typed."""
    return _typed("settings", cls)


T = TypeVar("T")


def collaborators_of(cls: type[T]) -> Callable[[Request], Awaitable[T]]:
    """A dependency answering the service's own collaborators (``ServiceSpec.collaborators``)."""
    return _typed("collaborators", cls)


P = TypeVar("P")


def part_of(cls: type[T], pick: Callable[[T], P]) -> Callable[[Request], Awaitable[P]]:
    """A dependency answering one part of the service's collaborators (``pick`` of them)."""
    whole = collaborators_of(cls)

    async def part(request: Request) -> P:
        return pick(await whole(request))

    return part


def _typed(attribute: str, cls: type[T]) -> Callable[[Request], Awaitable[T]]:
    async def get(request: Request) -> T:
        found = getattr(runtime_of(request), attribute)
        if not isinstance(found, cls):
            raise TypeError(f"the service's {attribute} are not {cls.__name__}")
        return found

    return get


def peer(name: str) -> Callable[[Request], Awaitable[PeerClient]]:
    """A dependency answering the client of the peer service ``name`` (named in the spec)."""

    async def get_peer(request: Request) -> PeerClient:
        return runtime_of(request).peers[name]

    return get_peer


def forbidden(detail: str) -> ProblemError:
    return ProblemError(403, "forbidden", "无权访问", detail, title_en="Forbidden")


def ensure_principal(
    principal: InternalPrincipal,
    *principal_types: str,
    role: str | None = None,
    detail: str | None = None,
) -> InternalPrincipal:
    """The caller when it is one of ``principal_types`` (and, when ``role`` is given,
    holds that role); 403 with ``detail`` for anyone else."""
    if principal.principal_type not in principal_types or (
        role is not None and role not in principal.claims.get("roles", [])
    ):
        kinds = " or ".join(principal_types)
        with_role = f" with the role {role}" if role else ""
        raise forbidden(detail or f"for {kinds}{with_role} only")
    return principal


def require_principal(
    *principal_types: str, role: str | None = None, detail: str | None = None
) -> Callable[[InternalPrincipal], Awaitable[InternalPrincipal]]:
    """A dependency answering the caller once ``ensure_principal`` lets it through."""

    async def check(principal: PrincipalDep) -> InternalPrincipal:
        return ensure_principal(principal, *principal_types, role=role, detail=detail)

    return check


def require_role(
    role: str, *, principal_type: str = "staff", detail: str | None = None
) -> Callable[[InternalPrincipal], Awaitable[InternalPrincipal]]:
    """A dependency answering the caller when it is a ``principal_type`` with ``role``."""
    return require_principal(principal_type, role=role, detail=detail)


SessionDep = Annotated[AsyncSession, Depends(get_session)]
ReadSessionDep = Annotated[AsyncSession, Depends(get_read_session)]
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
PrincipalDep = Annotated[InternalPrincipal, Depends(get_principal)]
OutboxDep = Annotated[Outbox, Depends(get_outbox)]
CipherDep = Annotated[PiiCipher, Depends(get_cipher)]
NowDep = Annotated[datetime, Depends(get_now)]
