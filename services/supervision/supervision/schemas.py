"""Request and response bodies of the supervision API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from supervision.deadlines import Card

Grade = Literal["good", "bad"]


class CaseWatchRead(BaseModel):
    case_id: str
    matter_code: str
    matter_name: str
    department: str
    channel: str
    promised_days: int
    submitted_at: datetime
    due_date: date = Field(description="承诺办结日期")
    yellow_at: date = Field(description="亮黄牌日期：办结日期前一个工作日")
    status: str
    card: Card = Field(description="green 正常 / yellow 黄牌预警 / red 红牌超期")


class ReviewCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    case_id: str = Field(min_length=1, max_length=36)
    rating: int = Field(ge=1, le=5, description="1 非常不满意 … 5 非常满意")
    comment: str | None = Field(default=None, max_length=500)
    channel: str = Field(default="app", pattern=r"^[a-z][a-z0-9_-]{0,31}$")


class ReviewRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    case_id: str
    rating: int
    grade: Grade
    comment: str | None
    channel: str
    submitted_at: datetime


class MetricsRead(BaseModel):
    counters: dict[str, dict[str, int]] = Field(
        description="dimension -> key -> count, e.g. licenses_issued_by_type -> type -> count"
    )
