from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from gateway.identity import ApiKeyAuthenticator, Principal


async def authenticated(request: Request) -> Principal:
    authenticator: ApiKeyAuthenticator = request.app.state.authenticator
    return authenticator.authenticate(request)


CallerDep = Annotated[Principal, Depends(authenticated)]
