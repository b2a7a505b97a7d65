"""Fixtures shared by every test suite in the repository.

``backend`` runs a test twice: on SQLite with the in-process bus, and on
PostgreSQL with Kafka (the servers that ``deploy/local/stack.sh`` starts; their
addresses come from ``YIWANG_TEST_POSTGRES_URL`` and ``YIWANG_TEST_KAFKA``).
Each test gets fresh databases and its own topic namespace. Without those
variables the real-stack variant is skipped, unless ``YIWANG_TEST_REQUIRE_STACK=1``
(set by ``make test``) makes that a failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer

# Import the gateway package before collection: pytest's importlib mode names test
# modules after their folders, and would otherwise shadow it with the ``gateway/`` folder.
import gateway  # noqa: F401
from yiwang_platform.bus import EventBus, Message
from yiwang_platform.bus.inprocess import InProcessBus
from yiwang_platform.bus.kafka import drop_topics
from yiwang_platform.internal_token import InternalTokenSigner, InternalTokenVerifier
from yiwang_platform.keyvalue import KeyValueStore, MemoryStore, RedisStore
from yiwang_platform.settings import ServiceSettings
from yiwang_platform.testing import KAFKA, POSTGRES_URL, REDIS_URL, need_stack

S = TypeVar("S", bound=ServiceSettings)


def _asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


@dataclass
class Backend:
    name: str
    tmp: Path
    bus_kind: str
    database_kind: str
    namespace: str = field(default_factory=lambda: f"t{uuid.uuid4().hex[:10]}.")
    shared_bus: InProcessBus | None = None
    created_databases: list[str] = field(default_factory=list)

    async def database_url(self, service: str) -> str:
        if self.database_kind == "sqlite":
            return f"sqlite+aiosqlite:///{self.tmp / (service + '.db')}"
        name = f"{self.namespace.rstrip('.')}_{service.replace('-', '_')}"
        if name not in self.created_databases:
            conn = await asyncpg.connect(_asyncpg_dsn(POSTGRES_URL))
            try:
                await conn.execute(f'CREATE DATABASE "{name}"')
            finally:
                await conn.close()
            self.created_databases.append(name)
        base = POSTGRES_URL.rsplit("/", 1)[0]
        return f"{base}/{name}"

    async def settings(self, cls: type[S], **overrides: Any) -> S:
        service = cls.model_fields["service_name"].default
        values: dict[str, Any] = {
            "database_url": await self.database_url(service),
            "bus": self.bus_kind,
            "kafka_bootstrap": KAFKA or "127.0.0.1:9092",
            "kafka_namespace": self.namespace,
            "topic_partitions": 3,
            "var_dir": self.tmp,
            "outbox_poll_interval": 0.1,
            "log_json": False,
            # The real-stack variant keeps short-lived state in the real Redis.
            "redis_url": REDIS_URL if self.database_kind == "postgres" else "",
        }
        values.update(overrides)
        return cls(**values)

    def bus(self) -> EventBus | None:
        """The bus to hand to an app: the shared in-process one, or None (the app opens Kafka)."""
        return self.shared_bus

    async def drop(self) -> None:
        if self.bus_kind == "kafka":
            with contextlib.suppress(Exception):  # a test may have stopped the broker
                await drop_topics(KAFKA, self.namespace)
        if not self.created_databases:
            return
        conn = await asyncpg.connect(_asyncpg_dsn(POSTGRES_URL))
        try:
            for name in self.created_databases:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


@pytest.fixture(params=["sqlite-inprocess", "postgres-kafka"])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    if request.param == "postgres-kafka":
        need_stack("postgres", "kafka", "redis")
        b = Backend(request.param, tmp_path, bus_kind="kafka", database_kind="postgres")
    else:
        b = Backend(request.param, tmp_path, bus_kind="inprocess", database_kind="sqlite")
        b.shared_bus = InProcessBus()
    try:
        yield b
    finally:
        await b.drop()


@pytest.fixture(params=["memory", "redis"])
async def kv_store(request) -> AsyncIterator[KeyValueStore]:
    """A key-value store in memory, or on real Redis in a namespace of this test's own."""
    kv: KeyValueStore
    if request.param == "redis":
        need_stack("redis")
        kv = RedisStore(REDIS_URL, prefix=f"test:{uuid.uuid4().hex}:")
    else:
        kv = MemoryStore()
    try:
        yield kv
    finally:
        await kv.close()


@pytest.fixture
def signer() -> InternalTokenSigner:
    return InternalTokenSigner.generate()


@pytest.fixture
def verifier(signer: InternalTokenSigner) -> InternalTokenVerifier:
    return InternalTokenVerifier(signer.jwks())


TopicReader = Callable[[str, int], Awaitable[list[Message]]]


@pytest.fixture
def read_topic(backend) -> TopicReader:
    """``await read_topic(topic, expected)``: every message on the topic once at least
    ``expected`` arrived, plus any extra that shows up within a second (so callers can
    assert exact counts)."""

    async def read(topic: str, expected: int, timeout: float = 60.0) -> list[Message]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        if backend.shared_bus is not None:
            while len(backend.shared_bus.messages(topic)) < expected:
                if loop.time() > deadline:
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)
            return backend.shared_bus.messages(topic)

        consumer = AIOKafkaConsumer(
            backend.namespace + topic,
            bootstrap_servers=KAFKA,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        out: list[Message] = []
        try:
            settle_until = None
            while loop.time() < deadline and (settle_until is None or loop.time() < settle_until):
                batches = await consumer.getmany(timeout_ms=300)
                for records in batches.values():
                    out.extend(
                        Message(topic, r.partition, r.offset, r.key, r.value, list(r.headers or []))
                        for r in records
                    )
                if settle_until is None and len(out) >= expected:
                    settle_until = loop.time() + 1.0
        finally:
            await consumer.stop()
        return out

    return read


# ---- no unmasked ID number in any log a test run produced ----------------------------

_LOG_DIR: Path | None = None


def pytest_configure(config: pytest.Config) -> None:
    """Write every log record of the run through the production JSON formatter, so the
    check at the end sees what a service's log would hold."""
    import logging

    from yiwang_platform.logs import JsonFormatter

    global _LOG_DIR
    _LOG_DIR = Path(config.rootpath) / ".local" / "test-logs"
    _LOG_DIR.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(_LOG_DIR / "pytest.log", mode="w", encoding="utf-8")
    handler.setFormatter(JsonFormatter("tests"))
    handler.setLevel(logging.DEBUG)
    logging.getLogger().addHandler(handler)
    logging.getLogger().setLevel(logging.INFO)


def unmasked_id_numbers(text: str) -> list[str]:
    """Valid resident ID numbers (GB 11643 checksum) that appear in full."""
    import re

    from stdnum.cn import ric

    found = re.findall(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])", text)
    return [n for n in found if ric.is_valid(n)]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    logs = [_LOG_DIR / "pytest.log"] if _LOG_DIR else []
    basetemp = session.config._tmp_path_factory.getbasetemp()  # type: ignore[attr-defined]
    logs += sorted(Path(basetemp).rglob("*.log"))
    leaks = [
        (p, n)
        for p in logs
        if p.exists()
        for n in unmasked_id_numbers(p.read_text(errors="replace"))
    ]
    if leaks:
        for path, number in leaks[:20]:
            print(f"unmasked ID number {number[:6]}********{number[-1]} in {path}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
