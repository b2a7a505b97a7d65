"""CloudEvents 1.0 envelope in the Kafka protocol binding (binary content mode).

Attributes travel as ``ce_*`` headers, the data as the JSON message value and
the trace context as a ``traceparent`` header.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"


class EnvelopeError(ValueError):
    """The message is not a valid CloudEvent."""


@dataclass(frozen=True)
class CloudEvent:
    type: str
    source: str
    data: dict[str, Any]
    subject: str | None = None
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    time: datetime = field(default_factory=lambda: datetime.now(UTC))
    dataschema: str | None = None
    traceparent: str | None = None

    def headers(self) -> list[tuple[str, bytes]]:
        pairs = [
            ("ce_specversion", SPEC_VERSION),
            ("ce_id", self.id),
            ("ce_source", self.source),
            ("ce_type", self.type),
            ("ce_time", self.time.isoformat()),
            ("content-type", CONTENT_TYPE),
        ]
        if self.subject:
            pairs.append(("ce_subject", self.subject))
        if self.dataschema:
            pairs.append(("ce_dataschema", self.dataschema))
        if self.traceparent:
            pairs.append(("traceparent", self.traceparent))
        return [(k, v.encode()) for k, v in pairs]

    def value(self) -> bytes:
        return json.dumps(self.data, ensure_ascii=False, separators=(",", ":")).encode()

    @classmethod
    def from_message(cls, headers: list[tuple[str, bytes]], value: bytes | None) -> CloudEvent:
        try:
            attrs = {k: v.decode() for k, v in headers}
        except UnicodeDecodeError as exc:
            raise EnvelopeError("headers are not UTF-8") from exc
        if attrs.get("ce_specversion") != SPEC_VERSION:
            raise EnvelopeError("ce_specversion missing or not 1.0")
        for required in ("ce_id", "ce_source", "ce_type"):
            if not attrs.get(required):
                raise EnvelopeError(f"{required} missing")
        try:
            data = json.loads(value or b"")
        except (ValueError, UnicodeDecodeError) as exc:
            raise EnvelopeError("data is not JSON") from exc
        if not isinstance(data, dict):
            raise EnvelopeError("data is not a JSON object")
        try:
            time = datetime.fromisoformat(attrs["ce_time"]) if "ce_time" in attrs else None
        except ValueError as exc:
            raise EnvelopeError("ce_time is not RFC 3339") from exc
        return cls(
            id=attrs["ce_id"],
            source=attrs["ce_source"],
            type=attrs["ce_type"],
            subject=attrs.get("ce_subject"),
            time=time or datetime.now(UTC),
            dataschema=attrs.get("ce_dataschema"),
            traceparent=attrs.get("traceparent"),
            data=data,
        )
