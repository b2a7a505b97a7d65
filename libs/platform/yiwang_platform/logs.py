"""JSON logs with trace ids; personal identifiers are masked in every record."""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from prometheus_client import Counter

from yiwang_platform.masking import mask
from yiwang_platform.tracing import current_trace_id


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "message": mask(record.getMessage()),
        }
        trace_id = current_trace_id()
        if trace_id:
            entry["trace_id"] = trace_id
        if record.exc_info:
            entry["exception"] = mask(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


class MaskingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return mask(super().format(record))


SUPPRESSED = Counter(
    "yiwang_log_lines_suppressed_total",
    "Log lines held back because the same message repeated (e.g. Kafka client during an outage)",
    ["logger"],
)

# Polled every few seconds by probes and Prometheus: their access lines go to DEBUG.
PROBE_PATHS = frozenset({"/healthz", "/readyz", "/status", "/metrics"})


@dataclass
class _Repeats:
    passed_at: float
    held: int = 0


class RepeatLimiter(logging.Filter):
    """For loggers under ``prefixes``: the first record of each message template passes,
    then at most one per ``interval`` seconds, which carries how many were held back.
    aiokafka re-requests metadata without a pause while a broker is away and would
    otherwise write thousands of identical lines a second."""

    def __init__(
        self,
        prefixes: tuple[str, ...] = ("aiokafka", "kafka"),
        interval: float = 30.0,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.prefixes = prefixes
        self.interval = interval
        self.now = now
        self._seen: dict[tuple[str, int, str], _Repeats] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith(self.prefixes):
            return True
        key = (record.name, record.levelno, str(record.msg))
        at = self.now()
        seen = self._seen.get(key)
        if seen is None:
            self._seen[key] = _Repeats(at)
            return True
        if at - seen.passed_at < self.interval:
            seen.held += 1
            SUPPRESSED.labels(record.name).inc()
            return False
        if seen.held:
            # Appended to the template, so it must not add a %-placeholder.
            record.msg = (
                f"{record.msg} [{seen.held} like it held back in {at - seen.passed_at:.0f} s]"
            )
        self._seen[key] = _Repeats(at)
        return True


class ProbeAccessFilter(logging.Filter):
    """uvicorn's access lines for probe and scrape paths are logged at DEBUG, not INFO."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) > 2 and isinstance(args[2], str):
            if args[2].split("?", 1)[0] in PROBE_PATHS:
                record.levelno, record.levelname = logging.DEBUG, "DEBUG"
                return logging.getLogger().isEnabledFor(logging.DEBUG)
        return True


def configure_logging(service: str, level: str = "INFO", *, as_json: bool = True) -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.addFilter(RepeatLimiter())
    handler.setFormatter(
        JsonFormatter(service)
        if as_json
        else MaskingFormatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("aiokafka", "kafka", "alembic.runtime.migration"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # Access logs carry URLs that may hold identifiers; route them through the masking
    # handler. ``uvicorn --no-access-log`` (the images' command) leaves the access logger
    # without handlers and not propagating: kept off, as one JSON line per request costs
    # a tenth of a catalogue read, and the gateway's audit log records every request.
    access_off = not _access_logger().handlers and not _access_logger().propagate
    for name in ("uvicorn", "uvicorn.access", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = not (access_off and name == "uvicorn.access")
    access = _access_logger()
    if not any(isinstance(f, ProbeAccessFilter) for f in access.filters):
        access.addFilter(ProbeAccessFilter())


def _access_logger() -> logging.Logger:
    return logging.getLogger("uvicorn.access")
