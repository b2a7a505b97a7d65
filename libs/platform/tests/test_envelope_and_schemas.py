"""CloudEvent envelope, event contracts and schema validation."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Literal

import pytest
from jsonschema import Draft202012Validator
from pydantic import AwareDatetime, BaseModel, Field, ValidationError

from yiwang_platform.events import (
    CloudEvent,
    ConsumedEvent,
    EnvelopeError,
    EventData,
    EventSchemas,
)
from yiwang_platform.events.contract import contract_mismatches
from yiwang_platform.events.schemas import SchemaViolation, describe

ID_NUMBER = "110101199003071234"
TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

Headers = list[tuple[str, bytes]]


class PersonRegistered(EventData):
    event_type = "gov.test.person.registered.v1"
    topic = "test.person.v1"

    person_ref: str = Field(pattern=r"^p-[0-9]+$")
    name: str = Field(max_length=4)
    registered_at: datetime
    tags: list[str] = Field(default_factory=list)


SCHEMAS = EventSchemas({PersonRegistered.event_type: PersonRegistered.contract_schema()})


def valid_data(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "person_ref": "p-42",
        "name": "张三",
        "registered_at": "2024-01-15T10:30:00+08:00",
        "tags": ["new"],
    }
    data.update(changes)
    return data


def sample_event(**changes: object) -> CloudEvent:
    values: dict[str, object] = {
        "type": "gov.test.person.registered.v1",
        "source": "/yiwang/test",
        "data": {"name": "张三", "count": 2, "nested": {"ok": True}},
        "subject": "p-42",
        "id": "0b0f6b3e-4a4e-4c39-9d0c-7f3c0b7d1a01",
        "time": datetime(2024, 1, 15, 10, 30, 0, 123456, tzinfo=timezone(timedelta(hours=8))),
        "dataschema": "urn:yiwang:events:gov.test.person.registered.v1",
        "traceparent": TRACEPARENT,
    }
    values.update(changes)
    return CloudEvent(**values)  # type: ignore[arg-type]


# ---- CloudEvent ---------------------------------------------------------------------------


def test_headers_carry_every_attribute_in_binary_mode() -> None:
    ce = sample_event()

    assert ce.headers() == [
        ("ce_specversion", b"1.0"),
        ("ce_id", b"0b0f6b3e-4a4e-4c39-9d0c-7f3c0b7d1a01"),
        ("ce_source", b"/yiwang/test"),
        ("ce_type", b"gov.test.person.registered.v1"),
        ("ce_time", b"2024-01-15T10:30:00.123456+08:00"),
        ("content-type", b"application/json"),
        ("ce_subject", b"p-42"),
        ("ce_dataschema", b"urn:yiwang:events:gov.test.person.registered.v1"),
        ("traceparent", TRACEPARENT.encode()),
    ]
    assert ce.value() == '{"name":"张三","count":2,"nested":{"ok":true}}'.encode()


def test_round_trip_through_a_message_keeps_every_attribute() -> None:
    ce = sample_event()

    back = CloudEvent.from_message(ce.headers(), ce.value())

    assert back == ce


def test_round_trip_without_optional_attributes() -> None:
    ce = CloudEvent(type="t.v1", source="/s", data={})

    back = CloudEvent.from_message(ce.headers(), ce.value())

    assert [k for k, _ in ce.headers()] == [
        "ce_specversion",
        "ce_id",
        "ce_source",
        "ce_type",
        "ce_time",
        "content-type",
    ]
    assert back == ce
    assert back.subject is None
    assert back.dataschema is None
    assert back.traceparent is None


def test_new_events_get_distinct_ids_and_a_utc_time() -> None:
    before = datetime.now(UTC)
    first = CloudEvent(type="t.v1", source="/s", data={})
    second = CloudEvent(type="t.v1", source="/s", data={})

    assert first.id != second.id
    assert first.time.tzinfo is UTC
    assert before <= first.time <= datetime.now(UTC)


def test_missing_ce_time_defaults_to_now() -> None:
    headers = [h for h in sample_event().headers() if h[0] != "ce_time"]
    before = datetime.now(UTC)

    back = CloudEvent.from_message(headers, b"{}")

    assert before <= back.time <= datetime.now(UTC)


def _without(name: str) -> Callable[[Headers], Headers]:
    return lambda headers: [h for h in headers if h[0] != name]


def _replacing(name: str, value: bytes) -> Callable[[Headers], Headers]:
    return lambda headers: [(k, value if k == name else v) for k, v in headers]


@pytest.mark.parametrize(
    ("change_headers", "message"),
    [
        (_without("ce_id"), "ce_id missing"),
        (_replacing("ce_id", b""), "ce_id missing"),
        (_without("ce_source"), "ce_source missing"),
        (_without("ce_type"), "ce_type missing"),
        (_without("ce_specversion"), "ce_specversion missing or not 1.0"),
        (_replacing("ce_specversion", b"0.3"), "ce_specversion missing or not 1.0"),
        (_replacing("ce_time", b"yesterday"), "ce_time is not RFC 3339"),
        (_replacing("ce_time", b"2024-13-45T99:00:00Z"), "ce_time is not RFC 3339"),
        (_replacing("ce_subject", b"\xff\xfe"), "headers are not UTF-8"),
    ],
)
def test_invalid_envelope_headers_raise(
    change_headers: Callable[[Headers], Headers], message: str
) -> None:
    ce = sample_event()

    with pytest.raises(EnvelopeError) as exc:
        CloudEvent.from_message(change_headers(ce.headers()), ce.value())

    assert str(exc.value) == message


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (b"{not json", "data is not JSON"),
        (b"", "data is not JSON"),
        (None, "data is not JSON"),
        (b"\xff\xfe\x00", "data is not JSON"),
        (b"[1, 2]", "data is not a JSON object"),
        (b'"text"', "data is not a JSON object"),
        (b"42", "data is not a JSON object"),
        (b"null", "data is not a JSON object"),
    ],
)
def test_invalid_envelope_data_raises(value: bytes | None, message: str) -> None:
    with pytest.raises(EnvelopeError) as exc:
        CloudEvent.from_message(sample_event().headers(), value)

    assert str(exc.value) == message


def test_envelope_error_is_a_value_error() -> None:
    assert issubclass(EnvelopeError, ValueError)


# ---- EventData contracts ------------------------------------------------------------------


def test_contract_schema_names_the_type_and_topic() -> None:
    schema = PersonRegistered.contract_schema()

    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == "urn:yiwang:events:gov.test.person.registered.v1"
    assert schema["title"] == "gov.test.person.registered.v1"
    assert schema["x-topic"] == "test.person.v1"
    assert schema["additionalProperties"] is False
    assert schema["required"] == ["person_ref", "name", "registered_at"]
    assert schema["properties"]["registered_at"]["format"] == "date-time"
    Draft202012Validator.check_schema(schema)


def test_contract_schema_does_not_list_the_class_variables_as_fields() -> None:
    schema = PersonRegistered.contract_schema()

    assert set(schema["properties"]) == {"person_ref", "name", "registered_at", "tags"}


def test_event_data_forbids_extra_fields() -> None:
    with pytest.raises(ValidationError) as exc:
        PersonRegistered(
            person_ref="p-1",
            name="张三",
            registered_at=datetime(2024, 1, 15, tzinfo=UTC),
            nickname="小张",  # type: ignore[call-arg]
        )

    assert [e["type"] for e in exc.value.errors()] == ["extra_forbidden"]


def test_event_data_is_frozen() -> None:
    data = PersonRegistered(
        person_ref="p-1", name="张三", registered_at=datetime(2024, 1, 15, tzinfo=UTC)
    )

    with pytest.raises(ValidationError):
        data.name = "李四"  # type: ignore[misc]


def test_dumped_event_data_matches_its_own_contract() -> None:
    data = PersonRegistered(
        person_ref="p-1", name="张三", registered_at=datetime(2024, 1, 15, 8, 0, tzinfo=UTC)
    )

    SCHEMAS.validate(PersonRegistered.event_type, data.model_dump(mode="json"))


# ---- a consumer's model against the producer's contract ----------------------------------


class Address(BaseModel):
    city: str
    district: str | None = None


class PersonMoved(EventData):
    event_type = "gov.test.person.moved.v1"
    topic = "test.person.v1"

    person_ref: str
    to: Address
    moved_at: datetime
    reason: Literal["work", "family", "other"]
    note: str | None = None


class PersonMovedIn(ConsumedEvent):
    event_type = PersonMoved.event_type
    topic = PersonMoved.topic

    person_ref: str
    to: Address
    moved_at: AwareDatetime
    reason: Literal["work", "family", "other"]


def test_a_faithful_consumer_model_has_no_mismatches() -> None:
    assert contract_mismatches(PersonMovedIn, PersonMoved.contract_schema()) == []


def test_mismatches_name_each_departure_from_the_contract() -> None:
    class CityIn(BaseModel):
        city: int
        street: str

    class Drifted(ConsumedEvent):
        event_type = PersonMoved.event_type
        topic = "test.elsewhere.v1"

        person_ref: int
        to: CityIn
        reason: Literal["work", "family"]
        note: str
        moved_by: str

    assert contract_mismatches(Drifted, PersonMoved.contract_schema()) == [
        "topic test.elsewhere.v1 is not the contract's test.person.v1",
        "person_ref takes ['integer'], the contract allows ['string']",
        "to.city takes ['integer'], the contract allows ['string']",
        "to.street is not in the contract",
        "reason refuses ['other']",
        "note is required here but optional in the contract",
        "note takes ['string'], the contract allows ['null', 'string']",
        "moved_by is not in the contract",
    ]


# ---- EventSchemas -------------------------------------------------------------------------


def test_valid_data_passes() -> None:
    SCHEMAS.validate(PersonRegistered.event_type, valid_data())
    SCHEMAS.validate(PersonRegistered.event_type, valid_data(registered_at="2024-01-15T02:30:00Z"))


def test_knows_only_the_loaded_types() -> None:
    assert SCHEMAS.knows(PersonRegistered.event_type)
    assert not SCHEMAS.knows("gov.test.unknown.v1")


def test_unknown_event_type_is_a_violation() -> None:
    with pytest.raises(SchemaViolation) as exc:
        SCHEMAS.validate("gov.test.unknown.v1", valid_data())

    assert str(exc.value) == "no schema for event type gov.test.unknown.v1"


@pytest.mark.parametrize(
    ("changes", "message", "secret"),
    [
        ({"person_ref": ID_NUMBER}, "person_ref: violates pattern", ID_NUMBER),
        ({"name": "欧阳娜娜娜"}, "name: violates maxLength", "欧阳娜娜娜"),
        ({"name": 110101199003071234}, "name: violates type", ID_NUMBER),
        ({"tags": ["ok", ID_NUMBER, 7]}, "tags/2: violates type", ID_NUMBER),
        ({"registered_at": "2024-01-15"}, "registered_at: violates format", "2024-01-15"),
        (
            {"registered_at": "2024-01-15T10:30:00"},
            "registered_at: violates format",
            "2024-01-15T10:30:00",
        ),
        ({"registered_at": "张三"}, "registered_at: violates format", "张三"),
    ],
)
def test_violation_names_path_and_rule_but_never_the_value(
    changes: dict[str, object], message: str, secret: str
) -> None:
    with pytest.raises(SchemaViolation) as exc:
        SCHEMAS.validate(PersonRegistered.event_type, valid_data(**changes))

    assert str(exc.value) == message
    assert secret not in str(exc.value)


def test_required_names_the_missing_property() -> None:
    data = valid_data()
    del data["name"]

    with pytest.raises(SchemaViolation) as exc:
        SCHEMAS.validate(PersonRegistered.event_type, data)

    assert str(exc.value) == "(root): 'name' is a required property"


def test_additional_property_names_the_property_but_not_its_value() -> None:
    with pytest.raises(SchemaViolation) as exc:
        SCHEMAS.validate(PersonRegistered.event_type, valid_data(id_number=ID_NUMBER))

    assert str(exc.value) == (
        "(root): Additional properties are not allowed ('id_number' was unexpected)"
    )
    assert ID_NUMBER not in str(exc.value)


def test_data_that_is_not_an_object_violates_type_at_the_root() -> None:
    with pytest.raises(SchemaViolation) as exc:
        SCHEMAS.validate(PersonRegistered.event_type, [ID_NUMBER])  # type: ignore[arg-type]

    assert str(exc.value) == "(root): violates type"


def test_describe_hides_the_value_of_enum_and_const_violations() -> None:
    validator = Draft202012Validator(
        {
            "type": "object",
            "properties": {
                "holder": {"type": "object", "properties": {"id": {"const": "x"}}},
                "kind": {"enum": ["a", "b"]},
            },
        }
    )
    errors = sorted(
        validator.iter_errors({"holder": {"id": ID_NUMBER}, "kind": "张三"}),
        key=lambda e: list(e.absolute_path),
    )

    assert [describe(e) for e in errors] == ["holder/id: violates const", "kind: violates enum"]


def test_load_reads_every_schema_of_a_contracts_folder(tmp_path) -> None:
    events = tmp_path / "events"
    events.mkdir()
    (events / f"{PersonRegistered.event_type}.json").write_text(
        json.dumps(PersonRegistered.contract_schema(), ensure_ascii=False)
    )

    schemas = EventSchemas.load(tmp_path)

    assert schemas.knows(PersonRegistered.event_type)
    assert not schemas.knows("gov.test.unknown.v1")
    with pytest.raises(SchemaViolation) as exc:
        schemas.validate(PersonRegistered.event_type, valid_data(name="欧阳娜娜娜"))
    assert str(exc.value) == "name: violates maxLength"
