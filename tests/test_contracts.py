"""The checked-in contracts are what the code produces (``make contracts`` regenerates them)."""

from __future__ import annotations

import json

from tools import contracts


def test_checked_in_contracts_match_the_code():
    expected = contracts.expected([])
    on_disk = {
        p for folder in ("openapi", "events") for p in (contracts.CONTRACTS / folder).glob("*.json")
    }
    assert on_disk == set(expected), "contract files added or missing; run `make contracts`"
    stale = [
        str(p.relative_to(contracts.ROOT)) for p, text in expected.items() if p.read_text() != text
    ]
    assert stale == [], f"contracts differ from the code; run `make contracts`: {stale}"


def test_every_service_has_its_openapi_document_and_every_event_names_its_topic():
    names = {p.stem for p in (contracts.CONTRACTS / "openapi").glob("*.json")}
    assert names == {"gateway", "matters", "intake", "license", "data-exchange", "supervision"}
    for path in (contracts.CONTRACTS / "events").glob("*.json"):
        schema = json.loads(path.read_text())
        assert schema["title"] == path.stem
        assert schema["x-topic"].endswith(".v1")
