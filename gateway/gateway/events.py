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
    service: Literal["matters", "intake", "license", "data-exchange", "supervision", "gateway"]
    method: str
    status: int
    duration_ms: int
    at: datetime
    # The audit decision (refused: the gateway answered itself, e.g. 403 with ``reason``)
    # and the entry's place in the hash-chained audit log: consumers holding the latest
    # ``audit_seq``/``audit_hash`` can tell if the log's newest entries were removed.
    decision: Literal["allowed", "refused"] = "allowed"
    reason: str | None = None
    scenario: str | None = None
    audit_seq: int | None = None
    audit_hash: str | None = None


PUBLISHES: list[type[EventData]] = [AccessRecorded]
