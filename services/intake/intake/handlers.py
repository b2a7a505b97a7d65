"""Events the intake service consumes: matter versions and reviews of its cases."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from intake import applications, catalogue
from yiwang_platform.consumer import Handler, RejectEvent
from yiwang_platform.events import CloudEvent


def _timestamp(data: dict[str, Any], field: str) -> datetime:
    # The schema checks the format; the zone is checked here (RFC 3339 requires one).
    try:
        value = datetime.fromisoformat(data[field])
    except (TypeError, ValueError) as exc:
        raise RejectEvent(f"{field} is not an RFC 3339 timestamp") from exc
    if value.tzinfo is None:
        raise RejectEvent(f"{field} has no time zone")
    return value


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
        published_at=_timestamp(data, "published_at"),
    )


async def on_review_submitted(session: AsyncSession, event: CloudEvent) -> None:
    data = event.data
    found = await applications.record_review(
        session,
        case_id=data["case_id"],
        rating=data["rating"],
        grade=data["grade"],
        rated_at=_timestamp(data, "submitted_at"),
    )
    if not found:
        raise RejectEvent(f"unknown case {data['case_id']}")


# event type -> (topic, handler)
HANDLERS: dict[str, tuple[str, Handler]] = {
    "gov.matters.matter.published.v1": ("matters.matter.v1", on_matter_published),
    "gov.supervision.review.submitted.v1": ("supervision.review.v1", on_review_submitted),
}
