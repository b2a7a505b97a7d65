"""Kafka connection settings from the environment, and the migration wait of a pod's
init container."""

from __future__ import annotations

import ssl
import uuid
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from yiwang_platform.bus.factory import create_bus
from yiwang_platform.bus.kafka import KafkaBus, drop_topics
from yiwang_platform.db import create_engine
from yiwang_platform.migrations import current_is_head, upgrade, wait_for_head
from yiwang_platform.settings import ServiceSettings
from yiwang_platform.testing import KAFKA, need_stack

MIGRATIONS = Path(__file__).resolve().parents[3] / "services" / "matters" / "migrations"


def test_plaintext_by_default() -> None:
    assert ServiceSettings().kafka_connection() == {"security_protocol": "PLAINTEXT"}


def test_sasl_ssl_and_topic_layout_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YIWANG_BUS", "kafka")
    monkeypatch.setenv("YIWANG_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("YIWANG_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
    monkeypatch.setenv("YIWANG_KAFKA_SASL_USERNAME", "intake")
    monkeypatch.setenv("YIWANG_KAFKA_SASL_PASSWORD", "pw")
    monkeypatch.setenv("YIWANG_TOPIC_PARTITIONS_BY_TOPIC", '{"gateway.access.v1": 12}')
    monkeypatch.setenv("YIWANG_TOPIC_REPLICATION_FACTOR", "3")
    settings = ServiceSettings()
    options = settings.kafka_connection()
    assert isinstance(options.pop("ssl_context"), ssl.SSLContext)
    assert options == {
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "intake",
        "sasl_plain_password": "pw",
    }
    bus = create_bus(settings)
    assert isinstance(bus, KafkaBus)
    assert bus._partitions_by_topic == {"gateway.access.v1": 12}
    assert bus._replication_factor == 3
    assert bus._connection["sasl_mechanism"] == "SCRAM-SHA-512"


def test_tls_without_sasl_sends_no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YIWANG_KAFKA_SECURITY_PROTOCOL", "SSL")
    options = ServiceSettings().kafka_connection()
    assert set(options) == {"security_protocol", "ssl_context"}


async def test_wait_for_head_returns_once_migrated_and_times_out_before(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")
    try:
        assert not await current_is_head(engine, MIGRATIONS)
        with pytest.raises(TimeoutError):
            await wait_for_head(engine, MIGRATIONS, timeout=0.3, interval=0.1)
        await upgrade(engine, MIGRATIONS)
        assert await current_is_head(engine, MIGRATIONS)
        await wait_for_head(engine, MIGRATIONS, timeout=0.3, interval=0.1)
    finally:
        await engine.dispose()


async def test_dropping_a_namespace_deletes_its_topics_only() -> None:
    need_stack("kafka")
    mine, other = (f"t{uuid.uuid4().hex[:10]}." for _ in range(2))
    for namespace in (mine, other):
        bus = KafkaBus(KAFKA, "drop-test", partitions=1, namespace=namespace)
        await bus.ensure_topics(["a.v1", "b.v1"])
        await bus.stop()

    await drop_topics(KAFKA, mine)

    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    try:
        topics = set(await admin.list_topics())
    finally:
        await admin.close()
    assert {f"{mine}a.v1", f"{mine}b.v1"} & topics == set()
    assert {f"{other}a.v1", f"{other}b.v1"} <= topics
    await drop_topics(KAFKA, other)
