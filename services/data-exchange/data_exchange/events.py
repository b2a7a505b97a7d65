"""Events data-exchange publishes, the county contracts it defines, and those it consumes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import AwareDatetime, ConfigDict, Field

from yiwang_platform.events import ConsumedEvent, EventData

MaritalStatus = Literal["未婚", "已婚", "离婚", "丧偶"]
# A reference photo: at most 2 MiB of base64 (an image of about 1.5 MB).
MAX_REFERENCE_FACE_CHARS = 2 * 1024 * 1024


class RecordUpserted(EventData):
    """A record of a base library was created or changed. Carries no personal data."""

    event_type = "gov.data-exchange.record.upserted.v1"
    topic = "data-exchange.record.v1"

    record_id: str = Field(description="opaque id of the record; also the message key")
    library: Literal["population", "legal_person"]
    source: str
    source_version: int
    upserted_at: datetime


def source_field(example: str) -> Any:
    return Field(
        pattern=r"^[0-9]{6}-[a-z0-9-]{1,40}$",
        description="county system: its 6-digit administrative division code, a hyphen "
        f"and a lower-case system name, e.g. {example}",
    )


SOURCE_VERSION: Any = Field(
    ge=1, le=2**63 - 1, description="increases with every change the source makes"
)


class CountyPopulationRecord(EventData):
    """A person's record as a county system sends it (produced outside the platform).

    Records of one person are compared by ``source_version`` within one ``source``:
    a version not newer than the stored one changes nothing.
    """

    event_type = "gov.county.population.record.v1"
    topic = "data-exchange.inbound.population.v1"

    source: str = source_field("330106-hukou")
    source_version: int = SOURCE_VERSION
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
    household_number: str | None = Field(
        default=None,
        pattern=r"^[0-9A-Za-z]{6,20}$",
        description="户号: the household register number; people of one household share it",
    )
    spouse_id_number: str | None = Field(
        default=None,
        pattern=r"^[0-9]{17}[0-9Xx]$",
        description="配偶身份号码 (GB 11643) when married; checksum verified",
    )
    reference_face: str | None = Field(
        default=None,
        min_length=100,
        max_length=MAX_REFERENCE_FACE_CHARS,
        pattern=r"^[A-Za-z0-9+/]+={0,2}$",
        description="reference photo for face checks (人脸核验): a JPEG or PNG, base64 "
        "(standard alphabet, no line breaks), with exactly one face. Only a face encoding "
        "derived from it is stored, never the image; a photo without a single clear face "
        "rejects the record. Omitted: the stored reference stays as it is. On Kafka the "
        "topic must accept messages this large (brokers default to 1 MB).",
        json_schema_extra={"contentEncoding": "base64"},
    )


LegalPersonStatus = Literal["存续", "在业", "停业", "清算", "迁出", "吊销", "注销"]


class CountyLegalPersonRecord(EventData):
    """An enterprise's or organisation's record (法人库) as a county system sends it
    (produced outside the platform). Versions compare as for population records."""

    event_type = "gov.county.legal_person.record.v1"
    topic = "data-exchange.inbound.legal_person.v1"

    source: str = source_field("330106-scjg")
    source_version: int = SOURCE_VERSION
    uscc: str = Field(
        pattern=r"^[0-9A-HJ-NPQRTUWXY]{18}$",
        description="统一社会信用代码 (GB 32100); its check character is verified",
    )
    name: str = Field(min_length=1, max_length=200)
    entity_type: str = Field(
        min_length=1, max_length=40, description="e.g. 有限责任公司, 股份有限公司, 个人独资企业"
    )
    legal_representative_name: str = Field(min_length=1, max_length=50)
    legal_representative_id_number: str = Field(
        pattern=r"^[0-9]{17}[0-9Xx]$",
        description="the representative's 公民身份号码 (GB 11643); stored encrypted",
    )
    registered_address: str = Field(min_length=1, max_length=200)
    business_scope: str | None = Field(default=None, min_length=1, max_length=2000)
    established_on: date = Field(description="成立日期; not in the future")
    status: LegalPersonStatus


class DataAccessRecorded(EventData):
    """Someone read or wrote a person's data in a library: one entry of the hash-chained
    access log. The person is a blind index (also the message key), the accessor masked."""

    event_type = "gov.data-exchange.access.recorded.v1"
    topic = "data-exchange.access.v1"

    seq: int = Field(description="the entry's place in the access log")
    hash: str = Field(description="the entry's chain hash (hex)")
    at: datetime
    accessor_type: str
    accessor: str = Field(description="masked")
    key_id: str | None = Field(default=None, description="the caller's key id at the gateway")
    scenario: str | None = None
    subject_index: str | None = Field(default=None, description="blind index of the person")
    fields: list[str] = Field(description="library.field read or written")
    outcome: str
    trace_id: str | None = None


PUBLISHES: list[type[EventData]] = [RecordUpserted, DataAccessRecorded]
# Contracts this service defines for producers outside the platform.
EXTERNAL: list[type[EventData]] = [CountyPopulationRecord, CountyLegalPersonRecord]


# ---- consumed ---------------------------------------------------------------------------
# The county records are this service's own contracts: it reads them whole. Patterns run
# on Python's ``re``, as the consumer's JSON Schema check does, so a record the schema
# lets through is parsed here alike and its identifier checks name the reason.


class CountyPopulationRecordIn(ConsumedEvent, CountyPopulationRecord):
    model_config = ConfigDict(regex_engine="python-re")


class CountyLegalPersonRecordIn(ConsumedEvent, CountyLegalPersonRecord):
    model_config = ConfigDict(regex_engine="python-re")


HolderKind = Literal["citizen", "enterprise"]


class LicenseEventIn(ConsumedEvent):
    """What the license library index reads of every license event."""

    topic = "license.license.v1"

    license_id: str
    license_type: str
    holder_kind: HolderKind
    holder_index: str
    issuer: str


class LicenseIssuedIn(LicenseEventIn):
    event_type = "gov.license.license.issued.v1"

    issued_at: AwareDatetime
    valid_until: AwareDatetime | None


class LicenseRevokedIn(LicenseEventIn):
    event_type = "gov.license.license.revoked.v1"

    revoked_at: AwareDatetime
