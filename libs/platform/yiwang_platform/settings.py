"""Settings common to every service, read from the environment (prefix ``YIWANG_``).

Every setting has a default that is safe for the standalone run: SQLite files
under ``./var``, the in-process bus and in-memory stand-ins for Redis.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """Base settings; each service subclasses it and sets its own ``service_name``."""

    model_config = SettingsConfigDict(env_prefix="YIWANG_", extra="ignore")

    service_name: str = "service"
    environment: Literal["standalone", "distributed"] = "standalone"

    # Calls to the peers a service names in its spec (their URLs: ``peer_<name>_url``).
    peer_timeout: float = 5.0

    # Database: SQLite by default, PostgreSQL (asyncpg) by URL.
    database_url: str = ""
    # Connections each process keeps open to PostgreSQL, and how many more it may open
    # under a burst (closed again after). Enough for the requests one process serves at
    # once: a connection opened per request costs PostgreSQL a backend fork.
    database_pool_size: int = Field(default=20, ge=1)
    database_max_overflow: int = Field(default=10, ge=0)
    # A round trip before every checkout to test the connection (~0.4 ms, a third of a
    # catalogue read). Off: a connection found dead fails its request (503, Retry-After)
    # and that failure discards the whole pool, so the next request connects afresh.
    database_pool_pre_ping: bool = False
    var_dir: Path = Path("var")
    migrate_on_start: bool = True

    # Event bus: "inprocess" for standalone, "kafka" for the distributed run.
    bus: Literal["inprocess", "kafka"] = "inprocess"
    kafka_bootstrap: str = "127.0.0.1:9092"
    kafka_client_id: str = ""
    # Partitions of the topics a service creates: the most consumer replicas that can share
    # a topic. Per topic (JSON, e.g. {"gateway.access.v1": 12}) over the default.
    topic_partitions: int = 6
    topic_partitions_by_topic: dict[str, int] = Field(default_factory=dict)
    topic_replication_factor: int = 1
    # Prefix for topic and consumer-group names, to run several isolated platforms on one cluster.
    kafka_namespace: str = ""
    # Kafka security: TLS with a CA bundle (PEM file; empty: the system's CAs) and SASL.
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = "PLAIN"
    kafka_sasl_username: str = ""
    kafka_sasl_password: str = ""
    kafka_ssl_cafile: str = ""

    # Outbox relay and consumers. Disabling the relay leaves committed events in the
    # outbox (maintenance, and the fault tests that kill a service before it publishes).
    outbox_relay_enabled: bool = True
    outbox_batch_size: int = 200
    outbox_poll_interval: float = 0.5
    consumer_batch_size: int = 200
    consumer_max_attempts: int = 3

    # Idempotency-Key records live this long; after that the key counts as new.
    idempotency_ttl_seconds: int = Field(default=24 * 3600, ge=60)
    # Housekeeping: published outbox rows, inbox rows and expired idempotency records are
    # deleted every ``purge_interval_seconds``. A published outbox row is kept only for
    # diagnosis. An inbox row is what makes a redelivered event harmless, so it must
    # outlive every way an event comes back: a consumer restarting from its last
    # committed offset or the relay republishing after a crash (seconds to minutes), and
    # at worst a group whose offsets were lost replaying its topics from the earliest
    # offset — which only reaches events Kafka still holds (log.retention.hours=168,
    # 7 days, deploy/local/kafka.sh). 30 days is well beyond both.
    purge_interval_seconds: float = Field(default=3600.0, gt=0)
    outbox_retention_seconds: int = Field(default=7 * 24 * 3600, ge=0)
    inbox_retention_seconds: int = Field(default=30 * 24 * 3600, ge=8 * 24 * 3600)

    # Internal token (minted by the gateway, verified by services).
    internal_token_public_keys: str = Field(
        default="",
        description="JWKS JSON or path to a JWKS file with the gateway's public keys",
    )
    internal_token_issuer: str = "yiwang-gateway"

    # Base64 of 64 bytes for encrypting personal identifiers and their blind index.
    pii_key: str = ""
    # Base64 of a secret (32+ bytes) that keys the hash of audit chains (HMAC-SHA256), so
    # someone with write access to the database alone cannot rebuild a tampered chain.
    # Required in the distributed run; empty in standalone: var/audit-chain.key, created
    # on first use. Changing it makes existing chains fail verification.
    audit_chain_key: str = ""
    # Ed25519 private key (PEM text or a file path) that signs checkpoints of audit chains'
    # heads, published for auditors. Required in the distributed run; empty in standalone:
    # var/audit-checkpoint.pem, created on first use.
    audit_checkpoint_private_key: str = ""
    # Seconds between checkpoints of a chain that grows.
    audit_checkpoint_interval_seconds: float = Field(default=300.0, gt=0)

    redis_url: str = ""
    log_level: str = "INFO"
    log_json: bool = True
    contracts_dir: Path | None = None

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.var_dir / (self.service_name + '.db')}"

    def resolved_client_id(self) -> str:
        return self.kafka_client_id or f"yiwang-{self.service_name}"

    def kafka_connection(self) -> dict[str, Any]:
        """Security options for every aiokafka client (producer, consumers, admin)."""
        options: dict[str, Any] = {"security_protocol": self.kafka_security_protocol}
        if self.kafka_security_protocol in ("SSL", "SASL_SSL"):
            from aiokafka.helpers import create_ssl_context

            options["ssl_context"] = create_ssl_context(cafile=self.kafka_ssl_cafile or None)
        if self.kafka_security_protocol.startswith("SASL"):
            options.update(
                sasl_mechanism=self.kafka_sasl_mechanism,
                sasl_plain_username=self.kafka_sasl_username,
                sasl_plain_password=self.kafka_sasl_password,
            )
        return options
