"""Events data-exchange publishes, the county contract it defines, and those it consumes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from yiwang_platform.events import EventData

MaritalStatus = Literal["未婚", "已婚", "离婚", "丧偶"]


class RecordUpserted(EventData):
    """A record of a base library was created or changed. Carries no personal data."""

    event_type = "gov.exchange.record.upserted.v1"
    topic = "exchange.record.v1"

    record_id: str = Field(description="opaque id of the record; also the message key")
    library: Literal["population", "legal_person"]
    source: str
    source_version: int
    upserted_at: datetime


class CountyPopulationRecord(EventData):
    """A person's record as a county system sends it (produced outside the platform).

    Records of one person are compared by ``source_version`` within one ``source``:
    a version not newer than the stored one changes nothing.
    """

    event_type = "gov.county.population.record.v1"
    topic = "exchange.inbound.population.v1"

    source: str = Field(
        pattern=r"^[0-9]{6}-[a-z0-9-]{1,40}$",
        description="county system: its 6-digit administrative division code, a hyphen "
        "and a lower-case system name, e.g. 330106-hukou",
    )
    source_version: int = Field(
        ge=1, le=2**63 - 1, description="increases with every change the source makes"
    )
    id_number: str = Field(
        pattern=r"^[0-9]{17}[0-9Xx]$",
        description="公民身份号码 (GB 11643); its check digit and birth date are verified",
    )
    name: str = Field(min_length=1, max_length=50)
    sex: Literal["男", "女"]
    ethnicity: str | None = Field(default=None, min_length=1, max_length=20)
    birth_date: date = Field(description="must equal the birth date inside id_number")
    household_address: str | None = Field(default=None, min_length=1, max_length=200)
    marital_status: MaritalStatus | None = None


PUBLISHES: list[type[EventData]] = [RecordUpserted]
# Contracts this service defines for producers outside the platform.
EXTERNAL: list[type[EventData]] = [CountyPopulationRecord]

# Consumed from other services (their contracts live in contracts/events/).
LICENSE_ISSUED = "gov.license.license.issued.v1"
LICENSE_TOPIC = "license.license.v1"
