from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class AccessRecordRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    at: datetime
    principal_type: str
    principal_subject: str
    service: str
    method: str
    path: str
    status: int
    duration_ms: int
    trace_id: str | None
