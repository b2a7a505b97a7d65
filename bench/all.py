"""Every benchmark, one after the other on the real stack, then one table of the figures
against their targets: figure, value, baseline, ratio, target, pass/fail.

    make bench-all

Each benchmark prints its own lines first (``bench/<name>.py``) and hands its figures
over through ``bench/results.py``. A figure whose benchmark does not exist yet is listed
as not measured, so the table shows every target.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = {
    "gateway": "bench/gateway_proxy.py",
    "bundles": "bench/bundle_submissions.py",
    "events": "bench/event_pipeline.py",
    "library": "bench/population_library.py",
}

Figures = dict[str, dict[str, float]]


@dataclass(frozen=True)
class Row:
    figure: str
    unit: str
    # value and baseline from the figures; None when not measured
    value: Callable[[Figures], float | None]
    baseline: Callable[[Figures], float | None] = lambda f: None
    # pass when value (or value/baseline, with ``on_ratio``) compares to target
    target: float = 0.0
    at_most: bool = False
    on_ratio: bool = False


def fig(benchmark: str, name: str) -> Callable[[Figures], float | None]:
    return lambda figures: figures.get(benchmark, {}).get(name)


def p50_added(figures: Figures) -> float | None:
    gateway = figures.get("gateway", {})
    if "gateway-jwt_p50_ms" not in gateway:
        return None
    return gateway["gateway-jwt_p50_ms"] - gateway["direct_p50_ms"]


ROWS = [
    Row("service read: matters direct vs bare app", "req/s", fig("gateway", "direct_rps"),
        fig("gateway", "bare_rps"), 0.7, on_ratio=True),
    Row("gateway read, citizen JWT vs nginx", "req/s", fig("gateway", "gateway-jwt_rps"),
        fig("gateway", "nginx_rps"), 0.8, on_ratio=True),
    Row("gateway read, API key vs nginx", "req/s", fig("gateway", "gateway_rps"),
        fig("gateway", "nginx_rps"), 0.8, on_ratio=True),
    Row("gateway p50 added over direct (JWT)", "ms", p50_added, target=1.0, at_most=True),
    Row("企业开办 cases through the gateway", "cases/s", fig("bundles", "gateway_cps"),
        target=250),
    Row("cases: submit→supervised lag p99", "ms", fig("bundles", "gateway_lag_p99_ms"),
        target=1000, at_most=True),
    Row("cases: gateway vs direct", "cases/s", fig("bundles", "gateway_cps"),
        fig("bundles", "direct_cps"), 0.8, on_ratio=True),
    Row("event drain applied with inbox rows", "events/s", fig("events", "drain_eps"),
        target=10_000),
    Row("event drain vs bare Kafka", "events/s", fig("events", "drain_eps"),
        fig("events", "kafka_eps"), 0.25, on_ratio=True),
    Row("event pipeline lag p99", "ms", fig("events", "lag_p99_ms"), target=500, at_most=True),
    Row("county population ingest (1 M records)", "records/s", fig("library", "ingest_rps"),
        target=20_000),
    Row("county ingest: dead letters exact (1 = yes)", "", fig("library", "dead_letters_exact"),
        target=1),
    Row("scenario read with 1 M people, p99 at 200 req/s", "ms", fig("library", "lookup_p99_ms"),
        target=10, at_most=True),
]  # fmt: skip


def table(figures: Figures) -> list[str]:
    header = (
        "| figure | value | baseline | ratio | target | result |\n|---|---:|---:|---:|---:|---|"
    )
    lines = [header]
    for row in ROWS:
        value, baseline = row.value(figures), row.baseline(figures)
        if value is None:
            lines.append(f"| {row.figure} | not measured | | | {row.target:,g} | – |")
            continue
        ratio = value / baseline if baseline else None
        compared = ratio if row.on_ratio else value
        ok = compared is not None and (
            compared <= row.target if row.at_most else compared >= row.target
        )
        target = f"{'≤' if row.at_most else '≥'} {row.target:,g}{'×' if row.on_ratio else ''}"
        lines.append(
            f"| {row.figure} | {value:,.1f} {row.unit} | "
            + (f"{baseline:,.1f}" if baseline else "")
            + f" | {'' if ratio is None else f'{ratio:.3f}'} | {target} | "
            + ("pass" if ok else "FAIL")
            + " |"
        )
    return lines


def main() -> None:
    figures: Figures = {}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "results.jsonl"
        env = {**os.environ, "BENCH_RESULTS": str(out)}
        for name, script in BENCHMARKS.items():
            print(f"== {name}: {script}", flush=True)
            done = subprocess.run([sys.executable, script], cwd=ROOT, env=env, check=False)
            if done.returncode != 0:
                print(f"   {name} failed (exit {done.returncode}); its figures are missing")
        if out.exists():
            for line in out.read_text().splitlines():
                entry = json.loads(line)
                figures[entry["benchmark"]] = entry["figures"]
    print()
    print(
        f"{datetime.now(UTC):%Y-%m-%d}, {os.cpu_count()} cores, {platform.system()} "
        f"{platform.machine()}, Python {platform.python_version()}"
    )
    print("\n".join(table(figures)))


if __name__ == "__main__":
    main()
