"""Events the intake service consumes: matter versions and reviews of its cases."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from intake import applications, catalogue
from yiwang_platform.consumer import Handler, RejectEvent, event_time
from yiwang_platform.events import CloudEvent

BASE_FIELDS = {"code", "version", "name", "kind", "department", "promised_days", "published_at"}


async def on_matter_published(session: AsyncSession, event: CloudEvent) -> None:
    data = event.data
    await catalogue.record_version(
        session,
        code=data["code"],
        version=data["version"],
        name=data["name"],
        kind=data["kind"],
        department=data["department"],
        promised_days=data["promised_days"],
        published_at=event_time(data["published_at"], "published_at"),
        elements={k: v for k, v in data.items() if k not in BASE_FIELDS},
    )


async def on_review_submitted(session: AsyncSession, event: CloudEvent) -> None:
    data = event.data
    found = await applications.record_review(
        session,
        case_id=data["case_id"],
        rating=data["rating"],
        grade=data["grade"],
        rated_at=event_time(data["submitted_at"], "submitted_at"),
    )
    if not found:
        raise RejectEvent(f"unknown case {data['case_id']}")


# event type -> (topic, handler)
HANDLERS: dict[str, tuple[str, Handler]] = {
    "gov.matters.matter.published.v1": ("matters.matter.v1", on_matter_published),
    "gov.supervision.review.submitted.v1": ("supervision.review.v1", on_review_submitted),
}
