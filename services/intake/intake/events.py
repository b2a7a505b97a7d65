"""Events the intake service publishes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from yiwang_platform.events import EventData


class CaseSubmitted(EventData):
    """An application was submitted and opened a case. Carries no personal identifiers."""

    event_type = "gov.intake.case.submitted.v1"
    topic = "intake.case.v1"

    case_id: str
    matter_code: str
    matter_version: int
    matter_name: str
    department: str
    promised_days: int
    channel: Literal["online", "window"]
    submitted_at: datetime


PUBLISHES: list[type[EventData]] = [CaseSubmitted]
