"""Events the matters service publishes."""

from __future__ import annotations

from datetime import datetime

from yiwang_platform.events import EventData


class MatterPublished(EventData):
    event_type = "gov.matters.matter.published.v1"
    topic = "matters.matter.v1"

    code: str
    version: int
    name: str
    kind: str
    department: str
    promised_days: int
    published_at: datetime


PUBLISHES: list[type[EventData]] = [MatterPublished]
