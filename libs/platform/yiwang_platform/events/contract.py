"""Base for the data of an event type a service publishes.

A service declares each event it publishes as a subclass with its versioned
type and topic; ``make contracts`` writes the JSON Schema of every subclass to
``contracts/events/<type>.json``, and consumers validate against those files.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict


class EventData(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    event_type: ClassVar[str]
    topic: ClassVar[str]

    @classmethod
    def contract_schema(cls) -> dict[str, Any]:
        schema = cls.model_json_schema()
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["$id"] = dataschema_uri(cls.event_type)
        schema["title"] = cls.event_type
        schema["x-topic"] = cls.topic
        return schema


def dataschema_uri(event_type: str) -> str:
    return f"urn:yiwang:events:{event_type}"


class ConsumedEvent(BaseModel):
    """Base for the data of an event type a service consumes: the consumer's own copy of
    the fields it reads (a test checks each against ``contracts/events/``). Fields it
    does not read are ignored, so a producer may add fields without breaking it."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    event_type: ClassVar[str]
    topic: ClassVar[str]
