"""Events the license service publishes. Never an ID number: holders travel as blind indexes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from yiwang_platform.events import EventData


class LicenseIssued(EventData):
    event_type = "gov.license.license.issued.v1"
    topic = "license.license.v1"

    license_id: str = Field(description="uuid4 of the license; also the message key")
    license_type: str = Field(description="证照类型编码, e.g. CN-BIZ-LICENSE")
    holder_kind: Literal["citizen", "enterprise"]
    holder_index: str = Field(
        pattern=r"^[0-9a-f]{64}$", description="blind index of the holder's identifier"
    )
    issuer: str
    issued_at: datetime
    valid_until: datetime | None


PUBLISHES: list[type[EventData]] = [LicenseIssued]
