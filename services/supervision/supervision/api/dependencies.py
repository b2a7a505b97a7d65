"""Request dependencies specific to the supervision API."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, cast

from fastapi import Depends, Request

from supervision.settings import Settings
from yiwang_platform.deps import PrincipalDep
from yiwang_platform.errors import ProblemError
from yiwang_platform.internal_token import InternalPrincipal
from yiwang_platform.pii import PiiCipher
from yiwang_platform.service import runtime_of
from yiwang_platform.workdays import china_date


async def get_cipher(request: Request) -> PiiCipher:
    # Built on first use, not at app creation, so generating the OpenAPI document needs no key.
    cipher: PiiCipher | None = getattr(request.app.state, "pii_cipher", None)
    if cipher is None:
        cipher = PiiCipher.from_settings(runtime_of(request).settings)
        request.app.state.pii_cipher = cipher
    return cipher


CipherDep = Annotated[PiiCipher, Depends(get_cipher)]


async def get_settings(request: Request) -> Settings:
    return cast(Settings, runtime_of(request).settings)


SettingsDep = Annotated[Settings, Depends(get_settings)]


async def current_time() -> datetime:
    """The clock; tests override it to put "today" on a chosen date."""
    return datetime.now(UTC)


NowDep = Annotated[datetime, Depends(current_time)]


async def china_today(now: NowDep) -> date:
    return china_date(now)


TodayDep = Annotated[date, Depends(china_today)]


# Dashboards and lists are for supervisors and operators; citizens only post reviews.
OVERSEERS = {"supervisor", "operator"}


async def require_overseer(principal: PrincipalDep) -> InternalPrincipal:
    if principal.principal_type not in OVERSEERS:
        raise ProblemError(403, "forbidden", "无权访问", "supervision data is for supervisors")
    return principal


OverseerDep = Annotated[InternalPrincipal, Depends(require_overseer)]


def staff_department(principal: InternalPrincipal) -> str | None:
    """The department of a staff member (the gateway's ``dept`` claim), else None."""
    if principal.principal_type != "staff":
        return None
    department = principal.claims.get("dept")
    return department if isinstance(department, str) and department else None
