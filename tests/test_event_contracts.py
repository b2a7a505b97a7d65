"""Every event a service consumes is one its producer publishes: a contract file under
``contracts/events/`` exists for each type a handler names, and the consumer's model of
it reads that contract faithfully (fields, types, topic)."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

from yiwang_platform.events.contract import contract_mismatches

CONTRACTS = Path(__file__).resolve().parents[1] / "contracts" / "events"
SERVICES = ["matters", "intake", "license", "data_exchange", "supervision"]


def consumed(package: str) -> list[type]:
    spec = importlib.import_module(f"{package}.main").spec()
    return list(spec.handlers)


@pytest.mark.parametrize("package", SERVICES)
def test_every_consumed_event_has_a_contract_the_model_reads_faithfully(package: str) -> None:
    for model in consumed(package):
        contract = CONTRACTS / f"{model.event_type}.json"
        assert contract.is_file(), f"{package} handles {model.event_type}, which no one publishes"
        assert contract_mismatches(model, json.loads(contract.read_text())) == [], model.__name__


def test_the_services_consume_what_the_platform_publishes() -> None:
    # A service that stopped consuming by mistake would pass the test above with nothing.
    counts = {package: len(consumed(package)) for package in SERVICES}
    assert counts == {
        "matters": 0,
        "intake": 2,
        "license": 1,
        "data_exchange": 4,
        "supervision": 14,
    }
