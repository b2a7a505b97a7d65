"""Request and response bodies of the supervision API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from supervision.deadlines import Card, Level

Grade = Literal["good", "bad"]
WarningLevel = Literal["yellow", "red"]
WarningKind = Literal["case", "subcase", "review_handling", "supplement"]
HandlingStatus = Literal["open", "closed"]

# 好差评 levels.
RATING_LABELS = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}


class CaseWatchRead(BaseModel):
    case_id: str
    matter_code: str
    matter_name: str
    department: str
    channel: str
    promised_days: int
    submitted_at: datetime
    due_date: date = Field(description="承诺办结日期")
    yellow_at: date = Field(description="亮黄牌日期：剩余工作日达到预警阈值的第一天")
    status: str = Field(description="open 办理中 / suspended 补正暂停 / completed 办结 / refused")
    card: Card = Field(description="green 正常 / yellow 黄牌预警 / red 红牌超期")


class DeadlineRead(BaseModel):
    due_date: date | None = Field(description="承诺办结日期; null while a sub-case waits")
    remaining_working_days: int | None = Field(
        description="working days left after today up to the due date; negative when overdue; "
        "null when closed or without a deadline"
    )
    level: Level = Field(description="none / yellow 黄牌 / red 红牌 (none while suspended)")


class TimelineEntryRead(BaseModel):
    event_type: str
    at: datetime
    summary: str


class SubcaseTimelineRead(BaseModel):
    subcase_id: str
    matter_code: str
    matter_name: str
    department: str
    depends_on: list[str]
    status: str = Field(description="waiting / open / suspended / decided / closed")
    decision: str | None
    deadline: DeadlineRead
    entries: list[TimelineEntryRead]


class CaseTimelineRead(BaseModel):
    case_id: str
    matter_code: str
    matter_name: str
    department: str
    channel: str
    status: str = Field(description="open / suspended / completed / refused")
    outcome: str | None
    submitted_at: datetime
    accepted_at: datetime | None
    deadline: DeadlineRead
    entries: list[TimelineEntryRead] = Field(description="the case's own steps, in order")
    subcases: list[SubcaseTimelineRead]


class WarningRead(BaseModel):
    kind: WarningKind
    id: str = Field(description="case id, sub-case id or review-handling id")
    case_id: str
    subcase_id: str | None
    department: str
    matter_code: str
    matter_name: str
    due_date: date
    remaining_working_days: int
    level: WarningLevel


class DepartmentWarnings(BaseModel):
    department: str
    yellow: int
    red: int


class WarningSummaryRead(BaseModel):
    today: date = Field(description="the day the cards were computed for")
    yellow: int
    red: int
    departments: list[DepartmentWarnings]


class ReviewCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    case_id: str = Field(min_length=1, max_length=36)
    rating: int = Field(
        ge=1, le=5, description="5 非常满意, 4 满意, 3 基本满意, 2 不满意, 1 非常不满意"
    )
    comment: str | None = Field(default=None, max_length=500)
    channel: str = Field(default="app", pattern=r"^[a-z][a-z0-9_-]{0,31}$")


class ReviewRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    case_id: str
    rating: int
    rating_label: str
    grade: Grade
    comment: str | None
    channel: str
    submitted_at: datetime


class ReviewHandlingRead(BaseModel):
    id: str
    review_id: str
    case_id: str
    matter_code: str
    matter_name: str
    department: str
    rating: int
    rating_label: str
    opened_at: datetime
    due_date: date = Field(description="整改期限")
    status: HandlingStatus
    remaining_working_days: int | None = Field(description="null once closed")
    level: Level = Field(description="none / yellow / red; none once closed")
    resolution_note: str | None
    resolved_by: str | None
    resolved_at: datetime | None


class ResolutionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(min_length=1, max_length=1000, description="整改情况说明")


class MetricsRead(BaseModel):
    counters: dict[str, dict[str, int]] = Field(
        description="dimension -> key -> count, e.g. licenses_issued_by_type -> type -> count"
    )
