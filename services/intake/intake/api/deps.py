"""The intake API's dependencies: what a route may name (the platform's ``SessionDep``,
``PrincipalDep``, ``CipherDep``, ``NowDep`` ... besides these)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from intake import window
from intake.applications import Checks
from intake.review import reviewer_department
from intake.schemas import CaseRead, case_read
from intake.settings import Settings
from intake.workflow import CaseWithSubcases
from yiwang_platform.deps import (
    CipherDep,
    NowDep,
    OutboxDep,
    SessionDep,
    peer,
    require_role,
    settings_of,
)
from yiwang_platform.internal_token import InternalPrincipal
from yiwang_platform.outbox import Outbox
from yiwang_platform.peers import PeerClient, bearer_token
from yiwang_platform.pii import PiiCipher


async def caller_token(request: Request) -> str:
    # Peers are called on the caller's behalf, with the token the gateway minted for it.
    return bearer_token(request.headers.get("authorization", ""))


SettingsDep = Annotated[Settings, Depends(settings_of(Settings))]
CallerTokenDep = Annotated[str, Depends(caller_token)]
WindowStaffDep = Annotated[
    InternalPrincipal, Depends(require_role("window", detail=window.WINDOW_STAFF_ONLY))
]


class WindowDesk:
    """A window clerk's step on one case: taken in one transaction with its outbox rows,
    answered as the case the clerk now sees."""

    def __init__(
        self,
        *,
        session: SessionDep,
        outbox: OutboxDep,
        clerk: WindowStaffDep,
        cipher: CipherDep,
        now: NowDep,
    ) -> None:
        self.session: AsyncSession = session
        self.outbox: Outbox = outbox
        self.clerk: InternalPrincipal = clerk
        self.cipher: PiiCipher = cipher
        self.now: datetime = now

    async def take(
        self, step: Callable[..., Awaitable[CaseWithSubcases]], /, **values: Any
    ) -> CaseRead:
        """``step(session, clerk=, now=, **values)``, one of ``window``'s changes (those
        that announce an event are given ``outbox=desk.outbox``)."""
        async with self.session.begin():
            found = await step(self.session, clerk=self.clerk.subject, now=self.now, **values)
            return case_read(found.case, self.cipher, subcases=found.subcases)


WindowDeskDep = Annotated[WindowDesk, Depends()]
# The reviewer's department; 403 for anyone else.
ReviewerDep = Annotated[str, Depends(reviewer_department)]
MattersPeerDep = Annotated[PeerClient, Depends(peer("matters"))]
DataExchangePeerDep = Annotated[PeerClient, Depends(peer("data-exchange"))]
LicensePeerDep = Annotated[PeerClient, Depends(peer("license"))]


async def application_checks(
    *,
    cipher: CipherDep,
    matters: MattersPeerDep,
    licenses: LicensePeerDep,
    token: CallerTokenDep,
) -> Checks:
    return Checks(matters=matters, licenses=licenses, token=token, cipher=cipher)


ChecksDep = Annotated[Checks, Depends(application_checks)]
