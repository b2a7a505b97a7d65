"""One event-bus interface, two adapters: Kafka and in-process."""

from yiwang_platform.bus.base import BusConsumer, EventBus, Message, OutgoingMessage
from yiwang_platform.bus.factory import create_bus

__all__ = ["BusConsumer", "EventBus", "Message", "OutgoingMessage", "create_bus"]
