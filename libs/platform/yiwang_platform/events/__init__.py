"""Event envelope (CloudEvents 1.0), event contracts and their schemas."""

from yiwang_platform.events.contract import ConsumedEvent, EventData
from yiwang_platform.events.envelope import CloudEvent, EnvelopeError
from yiwang_platform.events.schemas import EventSchemas, SchemaViolation

__all__ = [
    "CloudEvent",
    "ConsumedEvent",
    "EnvelopeError",
    "EventData",
    "EventSchemas",
    "SchemaViolation",
]
