"""Regenerate (or, with ``--check``, verify) the contracts from the code
(``python tools/contracts.py [--check] [service ...]``):
``contracts/openapi/<service>.json`` for the six apps and
``contracts/events/<event type>.json`` for every event a service publishes."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CONTRACTS = ROOT / "contracts"

# service name -> Python package
SERVICES = {
    "gateway": "gateway",
    "matters": "matters",
    "intake": "intake",
    "license": "license",
    "data-exchange": "data_exchange",
    "supervision": "supervision",
}


def _dump(doc: Any) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def expected(only: list[str]) -> dict[Path, str]:
    files: dict[Path, str] = {}
    for service, package in SERVICES.items():
        if only and service not in only:
            continue
        main = importlib.import_module(f"{package}.main")
        files[CONTRACTS / "openapi" / f"{service}.json"] = _dump(main.openapi_document())
        events = importlib.import_module(f"{package}.events")
        # PUBLISHES: events the service emits; EXTERNAL: contracts it defines for outside producers.
        for data_class in [*events.PUBLISHES, *getattr(events, "EXTERNAL", [])]:
            files[CONTRACTS / "events" / f"{data_class.event_type}.json"] = _dump(
                data_class.contract_schema()
            )
    return files


def main(check: bool, only: list[str]) -> int:
    (CONTRACTS / "events").mkdir(parents=True, exist_ok=True)
    files = expected(only)
    stale: list[str] = []
    for folder in (CONTRACTS / "openapi", CONTRACTS / "events"):
        folder.mkdir(parents=True, exist_ok=True)
        for existing in folder.glob("*.json"):
            if existing not in files and not only:
                stale.append(f"{existing.relative_to(ROOT)} (no longer produced by the code)")
                if not check:
                    existing.unlink()
    for path, text in files.items():
        if not path.exists() or path.read_text() != text:
            stale.append(str(path.relative_to(ROOT)))
            if not check:
                path.write_text(text)
    if check and stale:
        print("contracts differ from the code; run `make contracts`:\n  " + "\n  ".join(stale))
        return 1
    print(f"{len(files)} contract files {'checked' if check else 'written'}")
    return 0


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    sys.exit(main("--check" in sys.argv, args))
