"""/api/v1/intake/prefills: 智能预填 — a bundle's combined form (一表) filled from the
base libraries under the bundle's scenario, which the gateway must have granted."""

from __future__ import annotations

from fastapi import APIRouter

from intake.api.deps import CallerTokenDep, DataExchangePeerDep, MattersPeerDep
from intake.prefill import fill_form
from intake.schemas import Prefill, PrefillRequest
from yiwang_platform.deps import PrincipalDep

router = APIRouter(prefix="/api/v1/intake/prefills", tags=["pre-fill"])


@router.post("", response_model=Prefill, summary="Pre-fill a bundle's form from the libraries")
async def prefill(
    body: PrefillRequest,
    principal: PrincipalDep,
    matters: MattersPeerDep,
    data_exchange: DataExchangePeerDep,
    token: CallerTokenDep,
) -> Prefill:
    return await fill_form(
        bundle_code=body.bundle_code,
        scenario=principal.scenario,
        matters=matters,
        data_exchange=data_exchange,
        token=token,
    )
