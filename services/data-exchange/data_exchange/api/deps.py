"""Request dependencies of the data-exchange API (aliases only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from data_exchange.faces import FaceMatcher
from data_exchange.grants import caller_of_type
from data_exchange.settings import Settings
from yiwang_platform.deps import collaborators_of, settings_of
from yiwang_platform.internal_token import InternalPrincipal

SettingsDep = Annotated[Settings, Depends(settings_of(Settings))]
FaceMatcherDep = Annotated[FaceMatcher, Depends(collaborators_of(FaceMatcher))]

# Who may call a route, by the kind of caller the gateway vouched for.
CountyOrStaffDep = Annotated[InternalPrincipal, Depends(caller_of_type("county", "staff"))]
CitizenDep = Annotated[InternalPrincipal, Depends(caller_of_type("citizen"))]
