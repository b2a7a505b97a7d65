"""Kafka connection settings from the environment, and the migration wait of a pod's
init container."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from yiwang_platform.bus.factory import create_bus
from yiwang_platform.bus.kafka import KafkaBus
from yiwang_platform.db import create_engine
from yiwang_platform.migrations import current_is_head, upgrade, wait_for_head
from yiwang_platform.settings import ServiceSettings

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
