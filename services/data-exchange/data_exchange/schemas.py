"""Request and response bodies of the data-exchange API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from data_exchange.identifiers import mask_id_number, mask_name
from data_exchange.models import PopulationRecord
from yiwang_platform.pii import PiiCipher

MAX_BATCH = 500


def batch_records(event_type: str) -> Any:
    return Field(
        min_length=1,
        max_length=MAX_BATCH,
        description=f"each shaped like the data of {event_type}; "
        "records are checked one by one and a bad one does not stop the others: "
        "each entry is answered on its own in results (same index), and an entry that is "
        "not a JSON object (a string, null) is rejected there with its reason",
    )


class PopulationBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    records: list[Any] = batch_records("gov.county.population.record.v1")


class LegalPersonBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    records: list[Any] = batch_records("gov.county.legal_person.record.v1")


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

    @classmethod
    def of(cls, row: PopulationRecord, cipher: PiiCipher) -> PopulationRecordRead:
        return cls(
            record_id=row.record_id,
            id_number=mask_id_number(cipher.decrypt(row.id_number)),
            name=mask_name(cipher.decrypt(row.name)),
            sex=row.sex,
            ethnicity=row.ethnicity,
            birth_date=row.birth_date,
            marital_status=row.marital_status,
            source=row.source,
            source_version=row.source_version,
            updated_at=row.updated_at,
        )


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


FieldName = Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,40}$")]
ClaimedValue = Annotated[str, StringConstraints(max_length=200)]


class VerifyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    claims: dict[FieldName, ClaimedValue] = Field(
        min_length=1, max_length=6, description="field -> claimed value, e.g. {name: 张三}"
    )


class MyAccessRead(BaseModel):
    seq: int
    at: datetime
    accessor_type: str = Field(description="citizen, staff, county, partner, ...")
    accessor: str = Field(description="masked (staff: their staff id)")
    accessor_department: str | None = Field(default=None, description="staff: their department")
    case_id: str | None = Field(default=None, description="the case the read was for (staff)")
    presence: str | None = Field(
        default=None, description="staff reads for a case: how the applicant was present"
    )
    scenario: str | None
    purpose: str | None
    fields: list[str] = Field(description="library.field")
    outcome: str

    @classmethod
    def of(cls, seq: int, entry: dict[str, Any]) -> MyAccessRead:
        return cls(
            seq=seq,
            at=datetime.fromisoformat(entry["at"]),
            accessor_type=entry["accessor_type"],
            accessor=entry["accessor"],
            accessor_department=entry.get("accessor_department"),
            case_id=entry.get("case_id"),
            presence=entry.get("presence"),
            scenario=entry.get("scenario"),
            purpose=entry.get("purpose"),
            fields=entry.get("fields", []),
            outcome=entry["outcome"],
        )


class FaceProbe(BaseModel):
    model_config = ConfigDict(extra="forbid")

    image: str = Field(
        min_length=1,
        description="the probe photo (a selfie): JPEG or PNG, base64, exactly one face",
        json_schema_extra={"contentEncoding": "base64"},
    )


class FaceMatchRead(BaseModel):
    match: bool
    score: float = Field(description="distance between the faces: lower is more alike")
