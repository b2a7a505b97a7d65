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


def contract_mismatches(model: type[ConsumedEvent], contract: dict[str, Any]) -> list[str]:
    """Where a consumer's model of an event departs from the event's contract (the JSON
    Schema its producer publishes): a field the contract does not have, a field the model
    needs that the contract may leave out, a type the contract allows and the model
    refuses, or another topic. Empty when the model reads the contract faithfully."""
    problems = []
    if contract.get("x-topic") != model.topic:
        problems.append(f"topic {model.topic} is not the contract's {contract.get('x-topic')}")
    mine = model.model_json_schema()
    _compare(
        mine,
        contract,
        my_defs=mine.get("$defs", {}),
        their_defs=contract.get("$defs", {}),
        path="",
        problems=problems,
    )
    return problems


def _resolve(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    return _resolve(defs[ref.rsplit("/", 1)[-1]], defs) if ref else node


def _types(node: dict[str, Any], defs: dict[str, Any]) -> set[str]:
    node = _resolve(node, defs)
    if "anyOf" in node:
        return set().union(*(_types(n, defs) for n in node["anyOf"]))
    if "enum" in node and "type" not in node:
        return {type(v).__name__ for v in node["enum"]}
    kind = node.get("type")
    if isinstance(kind, list):
        return set(kind)
    return {kind} if kind else {"any"}


def _object(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any] | None:
    node = _resolve(node, defs)
    if "properties" in node:
        return node
    for option in node.get("anyOf", []):
        found = _object(option, defs)
        if found is not None:
            return found
    return None


def _compare(
    mine: dict[str, Any],
    theirs: dict[str, Any],
    *,
    my_defs: dict[str, Any],
    their_defs: dict[str, Any],
    path: str,
    problems: list[str],
) -> None:
    their_properties = theirs.get("properties", {})
    their_required = set(theirs.get("required", []))
    for name, field in mine.get("properties", {}).items():
        where = f"{path}{name}"
        if name not in their_properties:
            problems.append(f"{where} is not in the contract")
            continue
        their_field = their_properties[name]
        if name in mine.get("required", []) and name not in their_required:
            problems.append(f"{where} is required here but optional in the contract")
        their_types, my_types = _types(their_field, their_defs), _types(field, my_defs)
        if "number" in my_types:
            my_types.add("integer")
        if "any" not in my_types and not their_types <= my_types:
            problems.append(
                f"{where} takes {sorted(my_types)}, the contract allows {sorted(their_types)}"
            )
        my_enum = _resolve(field, my_defs).get("enum")
        their_enum = _resolve(their_field, their_defs).get("enum")
        if my_enum is not None and their_enum is not None and not set(their_enum) <= set(my_enum):
            problems.append(f"{where} refuses {sorted(set(their_enum) - set(my_enum))}")
        my_object, their_object = _object(field, my_defs), _object(their_field, their_defs)
        if my_object is not None and their_object is not None:
            _compare(
                my_object,
                their_object,
                my_defs=my_defs,
                their_defs=their_defs,
                path=f"{where}.",
                problems=problems,
            )
        my_items = _resolve(field, my_defs).get("items")
        their_items = _resolve(their_field, their_defs).get("items")
        if my_items and their_items:
            my_item, their_item = _object(my_items, my_defs), _object(their_items, their_defs)
            if my_item is not None and their_item is not None:
                _compare(
                    my_item,
                    their_item,
                    my_defs=my_defs,
                    their_defs=their_defs,
                    path=f"{where}[].",
                    problems=problems,
                )
