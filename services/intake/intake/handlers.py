"""Events the intake service consumes: matter versions and reviews of its cases."""

from __future__ import annotations

from typing import Any

from intake import applications, catalogue
from intake.events import MatterPublishedIn, ReviewSubmittedIn
from yiwang_platform.consumer import (
    BatchHandler,
    Delivery,
    EventHandler,
    HandlerContext,
    RejectEvent,
)
from yiwang_platform.events import ConsumedEvent
from yiwang_platform.events.envelope import CloudEvent


def _elements(envelope: CloudEvent) -> dict[str, Any]:
    # Everything but the fields the model reads (materials, license type, 告知承诺
    # allowed, ...), as published.
    return {k: v for k, v in envelope.data.items() if k not in MatterPublishedIn.model_fields}


async def on_matter_published(ctx: HandlerContext, event: MatterPublishedIn) -> None:
    await catalogue.record_version(
        ctx.session,
        code=event.code,
        version=event.version,
        name=event.name,
        kind=event.kind,
        department=event.department,
        promised_days=event.promised_days,
        published_at=event.published_at,
        elements=_elements(ctx.envelope),
    )


async def on_matters_published(ctx: HandlerContext, deliveries: list[Delivery]) -> None:
    """A run of published versions (a catalogue load, a backlog) in one statement."""
    await catalogue.record_versions(
        ctx.session,
        [
            {
                **d.event.model_dump(include=set(MatterPublishedIn.model_fields)),
                "elements": _elements(d.envelope),
            }
            for d in deliveries
        ],
    )


async def on_review_submitted(ctx: HandlerContext, event: ReviewSubmittedIn) -> None:
    found = await applications.record_review(
        ctx.session,
        case_id=event.case_id,
        rating=event.rating,
        grade=event.grade,
        rated_at=event.submitted_at,
    )
    if not found:
        raise RejectEvent(f"unknown case {event.case_id}")


HANDLERS: dict[type[ConsumedEvent], EventHandler] = {
    MatterPublishedIn: on_matter_published,
    ReviewSubmittedIn: on_review_submitted,
}
BATCH_HANDLERS: dict[type[ConsumedEvent], BatchHandler] = {
    MatterPublishedIn: on_matters_published,
}
