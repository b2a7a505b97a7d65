"""Request and response bodies of the data-exchange API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_BATCH = 500


class PopulationBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    records: list[dict[str, Any]] = Field(
        min_length=1,
        max_length=MAX_BATCH,
        description="each shaped like the data of gov.county.population.record.v1; "
        "records are checked one by one and a bad one does not stop the others",
    )


class RecordResult(BaseModel):
    index: int
    status: Literal["created", "updated", "unchanged", "rejected"]
    record_id: str | None = None
    reason: str | None = Field(default=None, description="why the record was rejected")


class BatchResults(BaseModel):
    results: list[RecordResult]


class PopulationRecordRead(BaseModel):
    record_id: str
    id_number: str = Field(description="masked: first 6 + ******** + last 1")
    name: str = Field(description="masked: family name only, e.g. 张*")
    sex: str
    ethnicity: str | None
    birth_date: date
    marital_status: str | None
    source: str
    source_version: int
    updated_at: datetime


class LicenseIndexRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    license_id: str
    license_type: str
    holder_kind: str
    holder_index: str
    issuer: str
    issued_at: datetime
    valid_until: datetime | None
