"""/api/v1/license/license-types: the registered types and the fields each carries."""

from __future__ import annotations

from fastapi import APIRouter

from license import types
from license.schemas import LicenseTypeField, LicenseTypeRead
from yiwang_platform.deps import PrincipalDep

router = APIRouter(prefix="/api/v1/license/license-types", tags=["license types"])


@router.get("", response_model=list[LicenseTypeRead], summary="Registered license types")
async def license_types(_principal: PrincipalDep) -> list[LicenseTypeRead]:
    return [
        LicenseTypeRead(
            code=t.code,
            name=t.name,
            holder_kind=t.holder_kind,
            fields=[
                LicenseTypeField(name=f.name, label=f.label, required=f.required) for f in t.fields
            ],
            validity_years=t.validity_years,
        )
        for t in types.TYPES.values()
    ]
