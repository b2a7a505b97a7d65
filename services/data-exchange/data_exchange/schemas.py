"""Request and response bodies of the data-exchange API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_BATCH = 500


class PopulationBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    records: list[Any] = Field(
        min_length=1,
        max_length=MAX_BATCH,
        description="each shaped like the data of gov.county.population.record.v1; "
        "records are checked one by one and a bad one does not stop the others: "
        "each entry is answered on its own in results (same index), and an entry that is "
        "not a JSON object (a string, null) is rejected there with its reason",
    )


class LegalPersonBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    records: list[Any] = Field(
        min_length=1,
        max_length=MAX_BATCH,
        description="each shaped like the data of gov.county.legal_person.record.v1; "
        "records are checked one by one and a bad one does not stop the others: "
        "each entry is answered on its own in results (same index), and an entry that is "
        "not a JSON object (a string, null) is rejected there with its reason",
    )


class RecordResult(BaseModel):
    """The answer to one entry of a county batch."""

    index: int = Field(description="the entry's position in the batch's records (from 0)")
    status: Literal["created", "updated", "unchanged", "stale", "rejected"] = Field(
        description="created, updated: accepted; unchanged: the same version again; "
        "stale: older than the stored version (nothing written); rejected: see reason"
    )
    record_id: str | None = None
    reason: str | None = Field(default=None, description="why the record was rejected")


class BatchSummary(BaseModel):
    accepted: int = Field(description="created or updated")
    unchanged: int
    stale: int
    rejected: int


class BatchResults(BaseModel):
    """A county batch answered entry by entry: the good records are applied whatever
    the others hold; a rejected entry (not an object, off the contract, a failed
    identifier check) says why, naming fields, never values."""

    results: list[RecordResult] = Field(description="one per entry, in the batch's order")
    summary: BatchSummary


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


class HouseholdRead(BaseModel):
    """The caller, their spouse and their household members: granted fields of each."""

    applicant: dict[str, Any] = Field(description="the caller's granted fields")
    spouse: dict[str, Any] | None = Field(
        description="the spouse's granted fields, when both records name each other"
    )
    same_household: bool = Field(description="the spouses share a household number (户号)")
    household_members: list[dict[str, Any]] = Field(
        description="others with the caller's household number, oldest first (at most 20)"
    )


class LicenseIndexRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    license_id: str
    license_type: str
    holder_kind: str
    holder_index: str
    issuer: str
    issued_at: datetime
    valid_until: datetime | None
    status: Literal["valid", "revoked"] = Field(description="revoked: no longer to be relied on")
    revoked_at: datetime | None = None
