"""The intake API's dependencies: what a route may name (the platform's ``SessionDep``,
``PrincipalDep``, ``CipherDep``, ``NowDep`` ... besides these)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from intake import window
from intake.review import reviewer_department
from intake.settings import Settings
from yiwang_platform.deps import peer, require_role, settings_of
from yiwang_platform.internal_token import InternalPrincipal
from yiwang_platform.peers import PeerClient, bearer_token


async def caller_token(request: Request) -> str:
    # Peers are called on the caller's behalf, with the token the gateway minted for it.
    return bearer_token(request.headers.get("authorization", ""))


SettingsDep = Annotated[Settings, Depends(settings_of(Settings))]
CallerTokenDep = Annotated[str, Depends(caller_token)]
WindowStaffDep = Annotated[
    InternalPrincipal, Depends(require_role("window", detail=window.WINDOW_STAFF_ONLY))
]
# The reviewer's department; 403 for anyone else.
ReviewerDep = Annotated[str, Depends(reviewer_department)]
MattersPeerDep = Annotated[PeerClient, Depends(peer("matters"))]
DataExchangePeerDep = Annotated[PeerClient, Depends(peer("data-exchange"))]
LicensePeerDep = Annotated[PeerClient, Depends(peer("license"))]
