"""Logs that repeat: the Kafka client during an outage is held to a handful of lines
(and a metric), and probe polls are not logged at INFO."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import uuid
from collections.abc import Iterator

import pytest
from prometheus_client import REGISTRY

from yiwang_platform.bus.base import OutgoingMessage
from yiwang_platform.bus.kafka import KafkaBus
from yiwang_platform.logs import RepeatLimiter, configure_logging
from yiwang_platform.testing import KAFKA, need_stack


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def kafka_record(message: str, *args: object, name: str = "aiokafka.client") -> logging.LogRecord:
    return logging.getLogger(name).makeRecord(name, logging.ERROR, __file__, 1, message, args, None)


def suppressed(prefix: str) -> float:
    """Lines held back so far from loggers whose name starts with ``prefix``."""
    return sum(
        sample.value
        for metric in REGISTRY.collect()
        if metric.name == "yiwang_log_lines_suppressed"
        for sample in metric.samples
        if sample.name.endswith("_total") and sample.labels["logger"].startswith(prefix)
    )


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """configure_logging replaces the root handlers; put pytest's back afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    access = logging.getLogger("uvicorn.access")
    access_filters, access_handlers = access.filters[:], access.handlers[:]
    access_propagate = access.propagate
    try:
        yield
    finally:
        root.handlers[:], root.level = handlers, level
        access.filters[:], access.handlers[:] = access_filters, access_handlers
        access.propagate = access_propagate


def test_a_burst_of_one_message_lets_the_first_through_then_one_per_interval() -> None:
    clock = Clock()
    limiter = RepeatLimiter(interval=30.0, now=clock)
    before = suppressed("aiokafka.client")

    burst = [
        kafka_record("Unable connect to node with id %s: %s", 1, "refused") for _ in range(5000)
    ]
    passed = [r for r in burst if limiter.filter(r)]

    assert len(passed) == 1
    assert suppressed("aiokafka.client") - before == 4999
    # Another template from the same logger is a new message.
    assert limiter.filter(kafka_record("Unable to update metadata from %s", [1]))
    # Other loggers are never held back.
    assert all(
        limiter.filter(kafka_record("same %s", i, name="intake.workflow")) for i in range(10)
    )

    clock.now += 29.0
    assert not limiter.filter(kafka_record("Unable connect to node with id %s: %s", 1, "refused"))
    clock.now += 1.0
    after_interval = kafka_record("Unable connect to node with id %s: %s", 1, "refused")
    assert limiter.filter(after_interval)
    assert after_interval.getMessage() == (
        "Unable connect to node with id 1: refused [5000 like it held back in 30 s]"
    )
    # The count starts again after the line that reported it.
    clock.now += 31.0
    quiet = kafka_record("Unable connect to node with id %s: %s", 1, "refused")
    assert limiter.filter(quiet)
    assert quiet.getMessage() == "Unable connect to node with id 1: refused"


def _access(path: str) -> None:
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/%s" %d', "10.0.0.7:5123", "GET", path, "1.1", 200
    )


def test_probe_and_scrape_polls_are_not_logged_at_info(capsys, restore_logging) -> None:
    configure_logging("gateway", "INFO", as_json=True)
    for path in ("/healthz", "/readyz", "/status", "/metrics", "/readyz?verbose=1"):
        _access(path)
    _access("/api/v1/matters/matters")

    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(e["level"], e["message"]) for e in lines] == [
        ("INFO", '10.0.0.7:5123 - "GET /api/v1/matters/matters HTTP/1.1" 200')
    ]

    configure_logging("gateway", "DEBUG", as_json=True)
    _access("/readyz")
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(e["level"], e["message"]) for e in lines] == [
        ("DEBUG", '10.0.0.7:5123 - "GET /readyz HTTP/1.1" 200')
    ]


def _dead_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_a_broker_outage_writes_a_handful_of_lines(capsys, restore_logging) -> None:
    need_stack("kafka")
    configure_logging("intake", "INFO", as_json=True)
    namespace = f"t{uuid.uuid4().hex[:10]}."
    bus = KafkaBus(KAFKA, "log-flood-test", partitions=1, namespace=namespace)
    await bus.ensure_topics(["flood.v1"])
    await bus.publish([OutgoingMessage("flood.v1", b"k", b"before", ())])
    producer = await bus._ensure_producer()
    client, cluster = producer.client, producer.client.cluster
    capsys.readouterr()
    before = suppressed("aiokafka")

    # What a broker restart looks like to the client: the last metadata had no leader
    # for the partition, and the broker's port now refuses connections.
    brokers = dict(cluster._brokers)
    dead = _dead_port()
    cluster._brokers = {n: b._replace(port=dead) for n, b in brokers.items()}
    for parts in cluster._partitions.values():
        for p, meta in parts.items():
            parts[p] = meta._replace(leader=-1)
    cluster._broker_partitions.clear()
    for conn in list(client._conns.values()):
        conn.close()
    delivered = await producer.send(namespace + "flood.v1", b"during", key=b"k")

    # The observation window: the outage goes on for two seconds.
    await asyncio.sleep(2.0)
    lines = [
        json.loads(line)
        for line in capsys.readouterr().out.splitlines()
        if '"logger": "aiokafka' in line
    ]
    held = suppressed("aiokafka") - before

    # The broker is back: the paced refresh finds it and the message is delivered.
    cluster._brokers = brokers
    await asyncio.wait_for(delivered, 30)
    await bus.stop()

    assert 0 < len(lines) < 20, [e["message"] for e in lines]
    # Paced: a few attempts in the window, not a busy loop of thousands.
    assert len(lines) + held < 50


def test_uvicorn_started_without_access_log_stays_without_it(capsys, restore_logging) -> None:
    # What ``uvicorn --no-access-log`` leaves before the app configures its logging.
    access = logging.getLogger("uvicorn.access")
    access.handlers[:], access.propagate = [], False
    configure_logging("matters", "INFO", as_json=True)
    _access("/api/v1/matters/matters")
    logging.getLogger("matters").warning("still logging")

    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [e["message"] for e in lines] == ["still logging"]
