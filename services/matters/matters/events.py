"""Events the matters service publishes, both on ``matters.matter.v1``.

``gov.matters.matter.published.v1`` keeps every field of its first release with the
same name and type; the implementation-list elements added since have defaults, so
producers of the first shape stay valid.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from matters.schemas import (
    BundleMaterial,
    BundleMemberRead,
    Fee,
    FlowStep,
    FormField,
    Guide,
    Material,
    Situation,
)
from yiwang_platform.events import EventData


class MatterPublished(EventData):
    event_type = "gov.matters.matter.published.v1"
    topic = "matters.matter.v1"

    code: str
    version: int
    name: str
    kind: str
    department: str
    promised_days: int
    published_at: datetime
    main_item_code: str | None = None
    main_item_name: str | None = None
    department_credit_code: str | None = None
    service_object: str | None = None
    description: str = ""
    keywords: list[str] = Field(default_factory=list)
    legal_basis: list[str] = Field(default_factory=list)
    conditions: list[str] = Field(default_factory=list)
    materials: list[Material] = Field(default_factory=list)
    situations: list[Situation] = Field(default_factory=list)
    legal_days: int | None = None
    fees: list[Fee] = Field(default_factory=list)
    online_depth: str | None = None
    visits: int | None = None
    cross_province: bool = False
    commitment_allowed: bool = False
    license_type: str | None = None


class BundlePublished(EventData):
    """A bundle version, whole; ``members`` name the matter versions current at publishing."""

    event_type = "gov.matters.bundle.published.v1"
    topic = "matters.matter.v1"

    code: str
    version: int
    name: str
    department: str
    scenario: str
    description: str
    keywords: list[str]
    members: list[BundleMemberRead]
    form: list[FormField]
    materials: list[BundleMaterial]
    flow: list[FlowStep]
    instructions: str
    guide: Guide
    published_at: datetime


PUBLISHES: list[type[EventData]] = [MatterPublished, BundlePublished]
