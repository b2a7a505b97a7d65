"""The rendered overlays of deploy/k8s, built with the pinned kustomize that
deploy/local/k8s-tools.sh installs (it runs here too, so plain pytest works)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tools.contracts import SERVICES
from tools.distributed import script_output

ROOT = Path(__file__).resolve().parents[2]
OVERLAYS = ["dev", "production"]

# Deployment name -> the service's Python package, as the contracts name them.
__all__ = ["OVERLAYS", "ROOT", "SERVICES", "Objects"]


@pytest.fixture(scope="session")
def tools() -> dict[str, str]:
    out = script_output("k8s-tools.sh", "paths")
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


@pytest.fixture(scope="session")
def render(tools: dict[str, str]) -> Any:
    cache: dict[str, list[dict[str, Any]]] = {}

    def build(overlay: str) -> list[dict[str, Any]]:
        if overlay not in cache:
            out = subprocess.run(
                [tools["KUSTOMIZE"], "build", str(ROOT / "deploy/k8s/overlays" / overlay)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            cache[overlay] = [d for d in yaml.safe_load_all(out) if d]
        return cache[overlay]

    return build


class Objects:
    def __init__(self, docs: list[dict[str, Any]]) -> None:
        self.docs = docs

    def of(self, kind: str) -> dict[str, dict[str, Any]]:
        return {d["metadata"]["name"]: d for d in self.docs if d["kind"] == kind}

    def one(self, kind: str, name: str) -> dict[str, Any]:
        found = self.of(kind)
        assert name in found, f"no {kind} {name}"
        return found[name]

    def configmap(self, prefix: str) -> dict[str, str]:
        """A generated ConfigMap's data (its name carries a content hash)."""
        [cm] = [d for n, d in self.of("ConfigMap").items() if n.rsplit("-", 1)[0] == prefix]
        return dict(cm.get("data", {}))


@pytest.fixture(scope="session")
def production(render: Any) -> Objects:
    return Objects(render("production"))
