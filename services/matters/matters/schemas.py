"""Request and response bodies of the matters API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MatterKind = Literal[
    "行政许可", "行政确认", "行政给付", "行政裁决", "行政奖励", "公共服务", "其他行政权力"
]


class MatterCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=r"^[0-9A-Z]{4,40}$", description="事项编码")
    name: str = Field(min_length=2, max_length=200)
    kind: MatterKind
    department: str = Field(min_length=2, max_length=200, description="实施主体")
    promised_days: int = Field(ge=0, le=365, description="承诺办结时限（工作日）")


class MatterRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    version: int
    name: str
    kind: str
    department: str
    promised_days: int
    published_at: datetime
