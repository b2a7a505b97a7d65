"""Events the license service consumes: approved sub-cases that yield an e-license."""

from __future__ import annotations

from license import issuance
from license.events import SubCaseDecidedIn
from license.seal import SealKeyring
from yiwang_platform.consumer import HandlerContext


async def on_subcase_decided(ctx: HandlerContext, event: SubCaseDecidedIn) -> None:
    await issuance.issue_for_subcase(
        session=ctx.session,
        outbox=ctx.outbox,
        keyring=ctx.collaborators_as(SealKeyring),
        cipher=ctx.require_cipher(),
        subcase=event,
        now=ctx.now,
    )


HANDLERS = {SubCaseDecidedIn: on_subcase_decided}
