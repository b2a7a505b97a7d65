"""Kafka adapter (aiokafka): idempotent producer with acks=all, consumer groups
with manual offset commits."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from yiwang_platform.bus.base import BusConsumer, EventBus, Message, OutgoingMessage

log = logging.getLogger(__name__)

# aiokafka has no reconnect backoff; its retry backoff paces produce retries and
# coordinator look-ups. Metadata refreshes after a failure are paced by _pace_metadata.
RETRY_BACKOFF_MS = 250
METADATA_BACKOFF = (0.25, 2.0)  # seconds: first wait after a failed refresh, then doubling up to


def _pace_metadata(client: Any) -> None:
    """Wait between failed metadata refreshes. While a partition leader is unknown
    aiokafka's sender asks for metadata again the moment a refresh fails: with the
    broker away that is a busy loop of connection attempts (and log lines)."""
    update = getattr(client, "_metadata_update", None)
    if update is None:  # a newer aiokafka: nothing to pace here
        return
    first, most = METADATA_BACKOFF
    delay = 0.0

    async def paced(cluster_metadata: Any, topics: Any) -> bool:
        nonlocal delay
        if delay:
            await asyncio.sleep(delay)
        ok = bool(await update(cluster_metadata, topics))
        delay = 0.0 if ok else min(most, max(first, delay * 2))
        return ok

    client._metadata_update = paced


class KafkaBus(EventBus):
    def __init__(
        self,
        bootstrap: str,
        client_id: str,
        partitions: int = 6,
        namespace: str = "",
        connection: Mapping[str, Any] | None = None,
        partitions_by_topic: Mapping[str, int] | None = None,
        replication_factor: int = 1,
    ) -> None:
        self._bootstrap = bootstrap
        self._ns = namespace
        self._client_id = client_id
        self._partitions = partitions
        # TLS and SASL options, the same for the producer, the consumers and the admin client.
        self._connection = dict(connection or {})
        self._partitions_by_topic = dict(partitions_by_topic or {})
        self._replication_factor = replication_factor
        self._producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        # Start lazily and tolerate a broker that is down: the relay retries.
        await self._ensure_producer()

    async def _ensure_producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            producer = AIOKafkaProducer(
                bootstrap_servers=self._bootstrap,
                client_id=self._client_id,
                enable_idempotence=True,
                acks="all",
                linger_ms=5,
                request_timeout_ms=15000,
                retry_backoff_ms=RETRY_BACKOFF_MS,
                **self._connection,
            )
            _pace_metadata(producer.client)
            try:
                await producer.start()
            except Exception:
                await producer.stop()
                raise
            self._producer = producer
        return self._producer

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def ready(self) -> bool:
        try:
            producer = await self._ensure_producer()
            await asyncio.wait_for(producer.client.fetch_all_metadata(), 5)
            return True
        except Exception:
            return False

    async def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        producer = await self._ensure_producer()
        futures = [
            await producer.send(
                self._ns + m.topic, value=m.value, key=m.key, headers=list(m.headers)
            )
            for m in messages
        ]
        try:
            await asyncio.gather(*futures)
        except KafkaError:
            # A producer that failed mid-batch may hold a poisoned sequence; start afresh.
            await self.stop()
            raise

    def consumer(self, topics: Sequence[str], group: str) -> BusConsumer:
        return _KafkaConsumer(
            self._bootstrap,
            self._client_id,
            [self._ns + t for t in topics],
            self._ns + group,
            self._ns,
            self._connection,
        )

    async def ensure_topics(self, topics: Sequence[str]) -> None:
        admin = AIOKafkaAdminClient(
            bootstrap_servers=self._bootstrap, client_id=self._client_id, **self._connection
        )
        await admin.start()
        try:
            existing = set(await admin.list_topics())
            wanted = [
                NewTopic(
                    name=self._ns + t,
                    num_partitions=self._partitions_by_topic.get(t, self._partitions),
                    replication_factor=self._replication_factor,
                )
                for t in topics
                if self._ns + t not in existing
            ]
            if wanted:
                try:
                    await admin.create_topics(wanted)
                except TopicAlreadyExistsError:
                    pass
        finally:
            await admin.close()


class _KafkaConsumer(BusConsumer):
    def __init__(
        self,
        bootstrap: str,
        client_id: str,
        topics: list[str],
        group: str,
        namespace: str,
        connection: Mapping[str, Any],
    ) -> None:
        self._ns = namespace
        self._consumer = AIOKafkaConsumer(
            *topics,
            bootstrap_servers=bootstrap,
            client_id=client_id,
            group_id=group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            max_poll_interval_ms=300000,
            retry_backoff_ms=RETRY_BACKOFF_MS,
            **connection,
        )
        _pace_metadata(self._consumer._client)
        self._positions: dict[TopicPartition, int] = {}

    async def start(self) -> None:
        await self._consumer.start()

    async def stop(self) -> None:
        await self._consumer.stop()

    async def poll(self, max_records: int, timeout: float) -> list[Message]:
        batches = await self._consumer.getmany(
            timeout_ms=int(timeout * 1000), max_records=max_records
        )
        out: list[Message] = []
        for tp, records in batches.items():
            for r in records:
                out.append(
                    Message(
                        r.topic.removeprefix(self._ns),
                        r.partition,
                        r.offset,
                        r.key,
                        r.value,
                        list(r.headers or []),
                    )
                )
                self._positions[tp] = r.offset + 1
        return out

    async def commit(self) -> None:
        if self._positions:
            await self._consumer.commit(dict(self._positions))
            self._positions.clear()


async def drop_topics(bootstrap: str, namespace: str) -> None:
    """Delete every topic of one isolated platform (its ``kafka_namespace``): a broker keeps
    a few files open per partition, and test runs would otherwise pile them up."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        mine = [t for t in await admin.list_topics() if t.startswith(namespace)]
        if mine:
            await admin.delete_topics(mine)
    finally:
        await admin.close()
