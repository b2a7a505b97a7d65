"""Request and response bodies of the intake API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Channel = Literal["online", "window"]
FormKey = Annotated[str, StringConstraints(min_length=1, max_length=64)]
FormValue = Annotated[str, StringConstraints(max_length=2000)] | int | bool | None
Form = dict[FormKey, FormValue]


class ApplicationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    matter_code: str = Field(pattern=r"^[0-9A-Z]{4,40}$", description="事项编码")
    channel: Channel = Field(default="online", description="online 网上办理 / window 窗口受理")
    form: Form = Field(default_factory=dict, max_length=50, description="表单字段（最多 50 项）")
    applicant_id_number: str | None = Field(
        default=None,
        pattern=r"^[0-9]{17}[0-9Xx]$",
        description="窗口受理时申请人的居民身份证号（仅窗口人员提交时填写，该办件分配给提交人）",
    )


class CaseRead(BaseModel):
    case_id: str
    matter_code: str
    matter_version: int
    matter_name: str
    department: str
    promised_days: int
    channel: str
    status: str
    form: Form
    submitted_at: datetime
    due_date: date = Field(description="承诺办结日期（按工作日计算）")
    rating: int | None = None
    grade: str | None = Field(default=None, description="good 好评 / bad 差评")
    rated_at: datetime | None = None
    assigned_to: str | None = Field(default=None, description="受理该办件的窗口人员")
