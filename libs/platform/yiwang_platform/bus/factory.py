from __future__ import annotations

from yiwang_platform.bus.base import EventBus
from yiwang_platform.bus.inprocess import InProcessBus
from yiwang_platform.settings import ServiceSettings


def create_bus(settings: ServiceSettings) -> EventBus:
    if settings.bus == "kafka":
        from yiwang_platform.bus.kafka import KafkaBus

        return KafkaBus(
            settings.kafka_bootstrap,
            settings.resolved_client_id(),
            settings.topic_partitions,
            settings.kafka_namespace,
            connection=settings.kafka_connection(),
            partitions_by_topic=settings.topic_partitions_by_topic,
            replication_factor=settings.topic_replication_factor,
        )
    return InProcessBus()
