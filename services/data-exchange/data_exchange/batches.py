"""Per-record outcomes of a county batch, shared by the libraries' batch endpoints."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

# created and updated are both "accepted": the record's data was written.
Status = Literal["created", "updated", "unchanged", "stale", "rejected"]


@dataclass(frozen=True)
class BatchResult:
    index: int
    status: Status
    record_id: str | None = None
    reason: str | None = None


def summary(results: Iterable[BatchResult]) -> dict[str, int]:
    """How many records were accepted, unchanged, stale and rejected."""
    counted = Counter(
        "accepted" if r.status in ("created", "updated") else r.status for r in results
    )
    return {k: counted.get(k, 0) for k in ("accepted", "unchanged", "stale", "rejected")}
