"""Schema fuzzing of every contract in ``contracts/openapi/`` against the standalone
platform, through the gateway, as a signed-in citizen (and the staff, operator, county
and supervisor development keys where a route is theirs). Counts per contract the
requests sent, the 5xx answers and the answers that break the contract (undocumented
status or content type, body not matching its schema).

    uv run --frozen python tools/fuzz.py [--examples N] [--phases examples,coverage,fuzzing,stateful] [contract ...]

Slow (minutes) at the default budget, so not part of the test run; ``tests/test_fuzz.py``
runs it with a small budget.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: ``tools.journeys`` must import
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import schemathesis  # noqa: E402
from schemathesis.config import SchemathesisConfig  # noqa: E402
from schemathesis.engine import events  # noqa: E402

from tools.distributed import terminate  # noqa: E402

CONTRACTS = ROOT / "contracts" / "openapi"
ALL_CONTRACTS = ["gateway", "matters", "intake", "license", "data-exchange", "supervision"]
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
]
# Would end the citizen's session or rotate the gateway's keys mid-run.
SKIP = {("DELETE", "/api/v1/auth/sessions/current"), ("POST", "/api/v1/auth/signing-keys/rotation")}

# Which identity a route is for (first match wins); the rest is fuzzed as the citizen.
ROUTE_IDENTITY: list[tuple[str, str, str]] = [
    ("POST", r"^/api/v1/matters/(matters|bundles)$", "operator"),
    ("*", r"^/api/v1/intake/cases", "staff"),
    ("*", r"^/api/v1/intake/subcases", "reviewer"),
    ("POST", r"^/api/v1/license/licenses$", "clerk"),
    ("POST", r"^/api/v1/license/licenses/[^/]+/revocation$", "clerk"),
    ("*", r"^/api/v1/data-exchange/(population|legal-persons)/records$", "county"),
    ("POST", r"^/api/v1/supervision/reviews$", "citizen"),
    ("POST", r"^/api/v1/supervision/review-handlings/", "clerk"),
    ("*", r"^/api/v1/supervision/", "supervisor"),
]


def identity_for(method: str, path: str) -> str:
    for want, pattern, who in ROUTE_IDENTITY:
        if want in ("*", method.upper()) and re.search(pattern, path):
            return who
    return "citizen"


@dataclass
class Tally:
    requests: int = 0
    server_errors: int = 0
    # 5xx to a path holding a control byte: the gateway's forwarding, not the service.
    control_byte_5xx: int = 0
    control_byte_violations: int = 0
    violations: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    # (check, method, path template, status) -> one example message
    failures: dict[tuple[str, str, str, int], str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


class _Run:
    """The state the global schemathesis hooks read: who calls, and where answers are counted."""

    headers: dict[str, dict[str, str]] = {}  # noqa: RUF012
    tally: Tally = Tally()
    lock = threading.Lock()


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    who = identity_for(case.method, case.operation.path)
    headers = {
        name: value
        for name, value in (case.headers or {}).items()
        if name.lower() not in ("authorization", "x-api-key")
    }
    case.headers = {**headers, **_Run.headers[who]}


@schemathesis.check
def counted(ctx: Any, response: Any, case: Any) -> bool | None:
    """Not a check: counts every answer (schemathesis calls checks once per response)."""
    with _Run.lock:
        _Run.tally.requests += 1
        _Run.tally.statuses[response.status_code] += 1
        if response.status_code >= 500:
            _Run.tally.server_errors += 1
            if _has_control_byte(response.request.url):
                _Run.tally.control_byte_5xx += 1
    return None


def _has_control_byte(url: str) -> bool:
    path = unquote(urlsplit(url).path)
    return any(ord(c) < 0x20 or ord(c) == 0x7F for c in path)


def _record(tally: Tally, recorder: Any) -> None:
    """The failed checks of one finished scenario: one violation per failing response."""
    for case_id, nodes in recorder.checks.items():
        failed = [n for n in nodes if n.failure_info is not None]
        node = recorder.cases.get(case_id)
        response = recorder.find_response(case_id=case_id)
        if any(n.name != "not_a_server_error" for n in failed):
            tally.violations += 1
            if response is not None and _has_control_byte(response.request.url):
                tally.control_byte_violations += 1
        for n in failed:
            case = node.value if node is not None else None
            key = (
                n.name,
                case.method if case is not None else "?",
                case.operation.path if case is not None else "?",
                response.status_code if response is not None else 0,
            )
            if key not in tally.failures:
                failure = n.failure_info.failure
                tally.failures[key] = (
                    f"{failure.title}: {failure.message}"[:300].replace("\n", " ")
                    + f"  [{n.failure_info.code_sample[:300]}]"
                )


# ---- the platform ---------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def standalone(var_dir: Path, timeout: float = 120) -> Iterator[str]:
    """``make run`` in a child process on a free port; yields its base URL."""
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("YIWANG_")},
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "YIWANG_VAR_DIR": str(var_dir),
        "YIWANG_LOG_LEVEL": os.environ.get("YIWANG_LOG_LEVEL", "WARNING"),
        # The fuzzer is one principal sending thousands of requests: limits are not under test.
        "YIWANG_RATE_LIMIT_PER_MINUTE": "10000000",
    }
    log = (var_dir / "standalone.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "yiwang_standalone"], env=env, stdout=log, stderr=log, cwd=ROOT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"standalone exited; see {var_dir / 'standalone.log'}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("standalone not ready in time")
            time.sleep(0.3)
        yield base
    finally:
        terminate(process, timeout=30)
        log.close()


async def sign_in(base: str, var_dir: Path) -> dict[str, dict[str, str]]:
    """Headers per identity: a real-name citizen and a window clerk signed in as the app
    and the hall do it, a reviewer, and the development keys for the rest."""
    import gateway.settings
    from tools import journeys
    from yiwang_standalone import seed_libraries as seed

    keys = json.loads((var_dir / "dev-api-keys.json").read_text())
    settings = gateway.settings.Settings(var_dir=var_dir, database_url="")
    sms = var_dir / "sms-outbox.jsonl"

    person = seed.generate().population[0]
    async with httpx.AsyncClient(base_url=base, timeout=60) as api:
        platform = journeys.Platform.local(api, keys, gateway_settings=settings, sms_outbox=sms)
        citizen = await platform.citizen("13900001111", person["id_number"], person["name"])
        clerk = await platform.staff("fuzz-clerk", "市市场监督管理局", ["window", "reviewer"])
        reviewer = await platform.reviewer("市市场监督管理局")
    return {
        "citizen": citizen,
        "clerk": clerk,
        "reviewer": reviewer,
        **{name: {"X-Api-Key": key} for name, key in keys.items() if name != "citizen"},
    }


# ---- one contract -----------------------------------------------------------------------------


def fuzz_contract(
    contract: str,
    base: str,
    headers: dict[str, dict[str, str]],
    *,
    examples: int,
    phases: list[str],
    seed: int | None = None,
) -> Tally:
    document = json.loads((CONTRACTS / f"{contract}.json").read_text())
    config = SchemathesisConfig.from_dict(
        {
            **({"seed": seed} if seed is not None else {}),
            "checks": {
                "enabled": False,
                **{name: {"enabled": True} for name in [*CHECKS, "counted"]},
            },
            "continue-on-failure": True,
            "generation": {"max-examples": examples},
            "phases": {
                name: {"enabled": name in phases}
                for name in ("examples", "coverage", "fuzzing", "stateful")
            },
            "request-timeout": 30,
        }
    )
    loaded = schemathesis.openapi.from_dict(document, config=config)
    loaded.config.update(base_url=base)
    schema = loaded.exclude(
        func=lambda ctx: (ctx.operation.method.upper(), ctx.operation.path) in SKIP
    )
    _Run.headers = headers
    _Run.tally = tally = Tally()
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished | events.FuzzScenarioFinished):
            _record(tally, event.recorder)
        elif isinstance(event, events.NonFatalError):
            tally.errors.append(f"{event.label}: {type(event.value).__name__}: {event.value}")
        elif isinstance(event, events.FatalError):
            tally.errors.append(f"fatal: {type(event.exception).__name__}: {event.exception}")
    return tally


def fuzz_platform(
    base: str,
    var_dir: Path,
    contracts: list[str],
    *,
    examples: int,
    phases: list[str],
    seed: int | None = None,
) -> dict[str, Tally]:
    results: dict[str, Tally] = {}
    for contract in contracts:
        # A fresh sign-in per contract: access tokens are short-lived.
        headers = asyncio.run(sign_in(base, var_dir))
        results[contract] = fuzz_contract(
            contract, base, headers, examples=examples, phases=phases, seed=seed
        )
    return results


def unhandled_errors(log: Path) -> Counter[str]:
    """The distinct unhandled errors a platform logged: exception and innermost project frame."""
    found: Counter[str] = Counter()
    for line in log.read_text(errors="replace").splitlines():
        with contextlib.suppress(ValueError):
            entry = json.loads(line)
            trace = entry.get("exception") or ""
            if entry.get("level") != "ERROR" or not trace:
                continue
            frames = re.findall(r'File "([^"]+)", line (\d+), in (\w+)', trace)
            ours = [f for f in frames if "site-packages" not in f[0]]
            where = ours[-1] if ours else (frames[-1] if frames else ("?", "?", "?"))
            # One line per kind of error: quoted values and numbers vary with the input.
            last = re.sub(r"'[^']*'|\d+", "…", trace.strip().splitlines()[-1])[:160]
            found[
                f"{Path(where[0]).relative_to(ROOT) if where[0].startswith(str(ROOT)) else where[0]}:{where[1]} {where[2]}: {last}"
            ] += 1
    return found


def report(results: dict[str, Tally], verbose: bool = True) -> str:
    columns = (
        "requests",
        "server_errors",
        "control_byte_5xx",
        "violations",
        "control_byte_violations",
    )
    lines = [
        f"{'contract':<15}{'requests':>10}{'5xx':>8}{'(ctrl-byte path)':>18}"
        f"{'violations':>12}{'(ctrl-byte path)':>18}"
    ]
    rows = [
        *results.items(),
        ("total", Tally(**{a: sum(getattr(t, a) for t in results.values()) for a in columns})),
    ]
    for contract, t in rows:
        lines.append(
            f"{contract:<15}{t.requests:>10}{t.server_errors:>8}{t.control_byte_5xx:>18}"
            f"{t.violations:>12}{t.control_byte_violations:>18}"
        )
    if verbose:
        for contract, t in results.items():
            for (check, method, path, status), message in sorted(t.failures.items()):
                lines.append(f"  {contract} {check} {method} {path} -> {status}: {message}")
            for error in t.errors[:20]:
                lines.append(f"  {contract} error: {error}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(prog="tools/fuzz.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("contracts", nargs="*", default=ALL_CONTRACTS)
    parser.add_argument("--examples", type=int, default=100, help="examples per operation")
    parser.add_argument("--phases", default="examples,coverage,fuzzing,stateful")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--keep", type=Path, help="run the platform in this folder and keep it")
    args = parser.parse_args()
    phases = args.phases.split(",")
    with contextlib.ExitStack() as stack:
        var_dir = args.keep or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        var_dir.mkdir(parents=True, exist_ok=True)
        base = stack.enter_context(standalone(var_dir))
        results = fuzz_platform(
            base, var_dir, args.contracts, examples=args.examples, phases=phases, seed=args.seed
        )
        print(report(results))
        errors = unhandled_errors(var_dir / "standalone.log")
        for error, count in errors.most_common():
            print(f"  logged {count}x: {error}")
    return 1 if any(t.server_errors or t.violations for t in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
