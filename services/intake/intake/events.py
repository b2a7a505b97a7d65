"""Events the intake service publishes on ``intake.case.v1``, keyed by case id so one
case's events stay in order, and its own copies of the events it consumes.

No event carries a personal identifier in plaintext. What the license service needs
to issue an e-license (the holder and the license's fields) travels field-encrypted
with the platform's PII key (AES-GCM, ``PiiCipher``), with the holder's blind index
beside it for look-ups.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field

from yiwang_platform.events import ConsumedEvent, EventData

Channel = Literal["online", "window", "partner"]


class CaseSubmitted(EventData):
    """An application was submitted and opened a case. Carries no personal identifiers."""

    event_type = "gov.intake.case.submitted.v1"
    topic = "intake.case.v1"

    case_id: str
    matter_code: str = Field(description="the matter, or the bundle's code for a bundle")
    matter_version: int
    matter_name: str
    department: str
    promised_days: int
    channel: Channel
    submitted_at: datetime
    bundle_code: str | None = Field(default=None, description="一件事 code when a bundle")
    applicant_index: str | None = Field(
        default=None,
        pattern=r"^[0-9a-f]{64}$",
        description="blind index of the applicant's identifier (who may rate the case)",
    )
    due_date: date | None = Field(
        default=None,
        description="promised deadline counted from submission (working days), so consumers "
        "need not count it again; absent from events published before it was carried",
    )


class SubCasePlan(BaseModel):
    """One member matter of an accepted case, routed to its department (后台分类审批)."""

    subcase_id: str
    matter_code: str
    matter_version: int
    matter_name: str
    department: str
    promised_days: int
    depends_on: list[str] = Field(
        default_factory=list, description="subcase ids that must be approved first"
    )
    due_date: date | None = Field(
        description="promised deadline; null until its dependencies are approved"
    )
    license_type: str | None = Field(description="e-license type this sub-case yields, if any")


class CaseAccepted(EventData):
    """The window accepted the case (受理); its sub-cases start in parallel (并联审批)."""

    event_type = "gov.intake.case.accepted.v1"
    topic = "intake.case.v1"

    case_id: str
    accepted_at: datetime
    accepted_by: str = Field(description="staff subject of the window clerk")
    mode: Literal["full", "deficiency", "commitment"] = Field(
        description="full 受理; deficiency 容缺受理; commitment 告知承诺"
    )
    due_date: date = Field(description="promised deadline of the whole case (working days)")
    supplement_due: date | None = Field(
        description="容缺: the day missing non-key materials must be supplied by"
    )
    missing_materials: list[str] = Field(default_factory=list)
    subcases: list[SubCasePlan]


class CaseRefusedAtIntake(EventData):
    """The window refused the application (不予受理) with a reason; the case ends."""

    event_type = "gov.intake.case.refused.v1"
    topic = "intake.case.v1"

    case_id: str
    refused_at: datetime
    reason: str


class CaseSuspended(EventData):
    """补正: the applicant must supply materials; the deadline clock stops."""

    event_type = "gov.intake.case.suspended.v1"
    topic = "intake.case.v1"

    case_id: str
    suspended_at: datetime
    reason: str
    requested_materials: list[str]


class CaseResumed(EventData):
    """The supplement arrived; the clock runs again with the deadline moved."""

    event_type = "gov.intake.case.resumed.v1"
    topic = "intake.case.v1"

    case_id: str
    resumed_at: datetime
    suspended_working_days: int
    due_date: date


class CaseSupplemented(EventData):
    """Materials arrived outside a 补正 pause: after 容缺受理, the missing ones."""

    event_type = "gov.intake.case.supplemented.v1"
    topic = "intake.case.v1"

    case_id: str
    supplied_at: datetime
    materials: list[str] = Field(description="codes of the materials supplied")
    missing_materials: list[str] = Field(description="non-key materials still missing")


class SubCaseRouted(EventData):
    """A sub-case whose dependencies were approved is now with its department (N+1 push)."""

    event_type = "gov.intake.subcase.routed.v1"
    topic = "intake.case.v1"

    case_id: str
    subcase_id: str
    matter_code: str
    department: str
    routed_at: datetime
    due_date: date


class LicenseToIssue(BaseModel):
    """What the license service seals into an e-license for an approved sub-case."""

    license_type: str
    holder_kind: Literal["citizen", "enterprise"]
    holder_index: str = Field(pattern=r"^[0-9a-f]{64}$", description="blind index of holder id")
    holder_encrypted: str = Field(description="holder id (ID number / credit code), encrypted")
    holder_name_encrypted: str
    fields_encrypted: str = Field(description="JSON object of the license fields, encrypted")
    issuer: str = Field(description="issuing department")


class SubCaseDecided(EventData):
    """A department decided its sub-case (审批决定)."""

    event_type = "gov.intake.subcase.decided.v1"
    topic = "intake.case.v1"

    case_id: str
    subcase_id: str
    matter_code: str
    department: str
    decision: Literal["approved", "refused"]
    decided_at: datetime
    decided_by: str
    reason: str | None = None
    license: LicenseToIssue | None = Field(
        default=None, description="present when approved and the matter yields a license"
    )


class CaseCompleted(EventData):
    """Every sub-case is decided (办结)."""

    event_type = "gov.intake.case.completed.v1"
    topic = "intake.case.v1"

    case_id: str
    completed_at: datetime
    outcome: Literal["approved", "refused", "partly_approved"]


PUBLISHES: list[type[EventData]] = [
    CaseSubmitted,
    CaseAccepted,
    CaseRefusedAtIntake,
    CaseSuspended,
    CaseResumed,
    CaseSupplemented,
    SubCaseRouted,
    SubCaseDecided,
    CaseCompleted,
]


# ---- consumed ---------------------------------------------------------------------------


class MatterPublishedIn(ConsumedEvent):
    """A version of a matter was published (the matters service). The handler keeps the
    rest of the implementation-list elements whole, as the event's data carries them."""

    event_type = "gov.matters.matter.published.v1"
    topic = "matters.matter.v1"

    code: str
    version: int
    name: str
    kind: str
    department: str
    promised_days: int
    published_at: AwareDatetime


class ReviewSubmittedIn(ConsumedEvent):
    """An applicant reviewed a case (好差评, the supervision service)."""

    event_type = "gov.supervision.review.submitted.v1"
    topic = "supervision.review.v1"

    case_id: str
    rating: int
    grade: Literal["good", "bad"]
    submitted_at: AwareDatetime
