"""Events the license service publishes, and its copy of those it consumes. Never an ID
number: holders travel as blind indexes or encrypted."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from yiwang_platform.events import ConsumedEvent, EventData


class LicenseIssued(EventData):
    event_type = "gov.license.license.issued.v1"
    topic = "license.license.v1"

    license_id: str = Field(
        description="uuid of the license (uuid5 of the sub-case when issued on approval); "
        "also the message key"
    )
    license_type: str = Field(description="证照类型编码, e.g. business-license")
    holder_kind: Literal["citizen", "enterprise"]
    holder_index: str = Field(
        pattern=r"^[0-9a-f]{64}$", description="blind index of the holder's identifier"
    )
    issuer: str
    issued_at: datetime
    valid_until: datetime | None
    case_id: str | None = Field(default=None, description="the case that yielded it, if any")
    subcase_id: str | None = Field(default=None, description="its sub-case, if any")


class LicenseRevoked(EventData):
    """A license was revoked (吊销/注销); presentations of it no longer verify online."""

    event_type = "gov.license.license.revoked.v1"
    topic = "license.license.v1"

    license_id: str
    license_type: str
    holder_kind: Literal["citizen", "enterprise"]
    holder_index: str = Field(
        pattern=r"^[0-9a-f]{64}$", description="blind index of the holder's identifier"
    )
    issuer: str
    revoked_at: datetime
    reason: str = Field(description="why, as the staff member gave it (identifiers masked)")
    case_id: str | None = Field(default=None, description="the case that yielded it, if any")
    subcase_id: str | None = Field(default=None, description="its sub-case, if any")


PUBLISHES: list[type[EventData]] = [LicenseIssued, LicenseRevoked]


# ---- consumed ------------------------------------------------------------------------


class LicenseToIssue(BaseModel):
    """What intake asks the service to seal for an approved sub-case, encrypted with the
    platform's PII key."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    license_type: str
    holder_kind: Literal["citizen", "enterprise"]
    holder_index: str
    holder_encrypted: str
    holder_name_encrypted: str
    fields_encrypted: str
    issuer: str


class SubCaseDecidedIn(ConsumedEvent):
    event_type = "gov.intake.subcase.decided.v1"
    topic = "intake.case.v1"

    case_id: str
    subcase_id: str
    decision: Literal["approved", "refused"]
    decided_by: str
    license: LicenseToIssue | None = None
