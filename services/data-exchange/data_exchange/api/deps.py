"""Request dependencies of the data-exchange API (aliases only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from data_exchange.collaborators import Collaborators
from data_exchange.faces import FaceMatcher
from data_exchange.settings import Settings
from yiwang_platform.deps import part_of, require_principal, settings_of
from yiwang_platform.internal_token import InternalPrincipal

SettingsDep = Annotated[Settings, Depends(settings_of(Settings))]
FaceMatcherDep = Annotated[FaceMatcher, Depends(part_of(Collaborators, lambda c: c.matcher))]

# Who may call a route, by the kind of caller the gateway vouched for.
CountyOrStaffDep = Annotated[InternalPrincipal, Depends(require_principal("county", "staff"))]
CitizenDep = Annotated[InternalPrincipal, Depends(require_principal("citizen"))]
