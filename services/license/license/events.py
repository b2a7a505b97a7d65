"""Events the license service publishes. Never an ID number: holders travel as blind indexes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from yiwang_platform.events import EventData


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
