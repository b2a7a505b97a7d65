"""Events the gateway publishes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from yiwang_platform.events import EventData


class AccessRecorded(EventData):
    event_type = "gov.gateway.access.recorded.v1"
    topic = "gateway.access.v1"

    access_id: str
    principal_type: str
    service: Literal["matters", "intake", "license", "exchange", "supervision", "gateway"]
    method: str
    status: int
    duration_ms: int
    at: datetime


PUBLISHES: list[type[EventData]] = [AccessRecorded]
