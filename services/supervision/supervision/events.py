"""Events the supervision service publishes, and its own copy of the fields it reads of
the events it consumes (contracts in ``contracts/events/``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from yiwang_platform.events import ConsumedEvent, EventData


class ReviewSubmitted(EventData):
    """A case was reviewed (好差评); a rating of 2 or less is a bad review."""

    event_type = "gov.supervision.review.submitted.v1"
    topic = "supervision.review.v1"

    review_id: str
    case_id: str
    rating: int = Field(ge=1, le=5)
    grade: Literal["good", "bad"]
    channel: str
    submitted_at: datetime


PUBLISHES: list[type[EventData]] = [ReviewSubmitted]


# ---- consumed: intake's case events, keyed by case id so one case's arrive in order ----

CASE_TOPIC = "intake.case.v1"


class CaseSubmittedIn(ConsumedEvent):
    event_type = "gov.intake.case.submitted.v1"
    topic = CASE_TOPIC

    case_id: str
    matter_name: str
    matter_code: str
    department: str
    channel: str
    promised_days: int
    submitted_at: AwareDatetime
    # Absent from events older than intake counting the limit itself.
    due_date: date | None = None
    applicant_index: str | None = None


class SubCasePlanIn(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    subcase_id: str
    matter_code: str
    matter_name: str
    department: str
    promised_days: int
    depends_on: list[str] = Field(default_factory=list)
    due_date: date | None


class CaseAcceptedIn(ConsumedEvent):
    event_type = "gov.intake.case.accepted.v1"
    topic = CASE_TOPIC

    case_id: str
    accepted_at: AwareDatetime
    mode: str
    due_date: date
    supplement_due: date | None
    missing_materials: list[str] = Field(default_factory=list)
    subcases: list[SubCasePlanIn]


class CaseRefusedIn(ConsumedEvent):
    event_type = "gov.intake.case.refused.v1"
    topic = CASE_TOPIC

    case_id: str
    refused_at: AwareDatetime
    reason: str


class CaseSuspendedIn(ConsumedEvent):
    event_type = "gov.intake.case.suspended.v1"
    topic = CASE_TOPIC

    case_id: str
    suspended_at: AwareDatetime
    reason: str
    requested_materials: list[str]


class CaseSupplementedIn(ConsumedEvent):
    event_type = "gov.intake.case.supplemented.v1"
    topic = CASE_TOPIC

    case_id: str
    supplied_at: AwareDatetime
    materials: list[str]
    missing_materials: list[str]


class CaseResumedIn(ConsumedEvent):
    event_type = "gov.intake.case.resumed.v1"
    topic = CASE_TOPIC

    case_id: str
    resumed_at: AwareDatetime
    suspended_working_days: int
    due_date: date


class SubCaseRoutedIn(ConsumedEvent):
    event_type = "gov.intake.subcase.routed.v1"
    topic = CASE_TOPIC

    case_id: str
    subcase_id: str
    department: str
    routed_at: AwareDatetime
    due_date: date


class SubCaseDecidedIn(ConsumedEvent):
    event_type = "gov.intake.subcase.decided.v1"
    topic = CASE_TOPIC

    case_id: str
    subcase_id: str
    department: str
    decision: str
    decided_at: AwareDatetime
    reason: str | None = None


class CaseCompletedIn(ConsumedEvent):
    event_type = "gov.intake.case.completed.v1"
    topic = CASE_TOPIC

    case_id: str
    completed_at: AwareDatetime
    outcome: str


# ---- consumed: other services' activity, counted ----------------------------------------

LICENSE_TOPIC = "license.license.v1"


class LicenseIssuedIn(ConsumedEvent):
    event_type = "gov.license.license.issued.v1"
    topic = LICENSE_TOPIC

    license_type: str


class LicenseRevokedIn(ConsumedEvent):
    event_type = "gov.license.license.revoked.v1"
    topic = LICENSE_TOPIC

    license_id: str
    license_type: str
    revoked_at: AwareDatetime
    reason: str
    case_id: str | None = None
    subcase_id: str | None = None


class DataExchangeRecordUpsertedIn(ConsumedEvent):
    event_type = "gov.data-exchange.record.upserted.v1"
    topic = "data-exchange.record.v1"

    library: str


class DataExchangeAccessRecordedIn(ConsumedEvent):
    event_type = "gov.data-exchange.access.recorded.v1"
    topic = "data-exchange.access.v1"

    scenario: str | None = None


class GatewayAccessRecordedIn(ConsumedEvent):
    event_type = "gov.gateway.access.recorded.v1"
    topic = "gateway.access.v1"

    service: str
    status: int
