from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from gateway.authn import authenticate
from gateway.identity import Principal


async def authenticated(request: Request) -> Principal:
    return await authenticate(request)


CallerDep = Annotated[Principal, Depends(authenticated)]
