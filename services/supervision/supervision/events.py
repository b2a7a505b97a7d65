"""Events the supervision service publishes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from yiwang_platform.events import EventData


class ReviewSubmitted(EventData):
    """A case was reviewed (好差评); a rating of 2 or less is a bad review."""

    event_type = "gov.supervision.review.submitted.v1"
    topic = "supervision.review.v1"

    review_id: str
    case_id: str
    rating: int = Field(ge=1, le=5)
    grade: Literal["good", "bad"]
    channel: str
    submitted_at: datetime


PUBLISHES: list[type[EventData]] = [ReviewSubmitted]
