"""The supervision API's dependencies: the platform's, its settings, today's date and
who oversees."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Depends

from supervision.access import OVERSEERS
from supervision.deadlines import china_today
from supervision.settings import Settings
from yiwang_platform.deps import (
    CipherDep,
    NowDep,
    OutboxDep,
    PrincipalDep,
    SessionDep,
    require_principal,
    settings_of,
)
from yiwang_platform.idempotency import IdempotencyDep
from yiwang_platform.internal_token import InternalPrincipal

__all__ = [
    "CipherDep",
    "IdempotencyDep",
    "NowDep",
    "OutboxDep",
    "OverseerDep",
    "PrincipalDep",
    "SessionDep",
    "SettingsDep",
    "TodayDep",
]

SettingsDep = Annotated[Settings, Depends(settings_of(Settings))]
# Today in China by the service's clock (tests set ``runtime.clock``).
TodayDep = Annotated[date, Depends(china_today)]
# Dashboards and lists are for supervisors and operators; 403 for anyone else.
OverseerDep = Annotated[
    InternalPrincipal,
    Depends(require_principal(*OVERSEERS, detail="supervision data is for supervisors")),
]
