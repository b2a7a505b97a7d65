"""Figures a benchmark hands to ``bench/all.py``: written as one JSON object per
benchmark to the file ``BENCH_RESULTS`` names (nothing is written when it is unset)."""

from __future__ import annotations

import json
import os


def save(benchmark: str, figures: dict[str, float]) -> None:
    path = os.environ.get("BENCH_RESULTS")
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps({"benchmark": benchmark, "figures": figures}) + "\n")
