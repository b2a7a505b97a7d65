"""/api/v1/supervision/metrics: counters of licenses, data-exchange records and accesses."""

from __future__ import annotations

from fastapi import APIRouter

from supervision import metrics
from supervision.api.deps import OverseerDep, SessionDep
from supervision.schemas import MetricsRead

router = APIRouter(prefix="/api/v1/supervision/metrics", tags=["metrics"])


@router.get("", response_model=MetricsRead, summary="Counters by dimension and key")
async def get_metrics(session: SessionDep, _overseer: OverseerDep) -> MetricsRead:
    return MetricsRead(counters=await metrics.counters(session))
