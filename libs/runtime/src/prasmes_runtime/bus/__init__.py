"""One small bus port, two backends: Kafka (aiokafka) and an embedded durable log (SQLite)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from prasmes_runtime.bus.port import Bus, BusUnavailable, Delivered, Producer, Subscription

if TYPE_CHECKING:
    from prasmes_runtime.settings import Settings

__all__ = ["Bus", "BusUnavailable", "Delivered", "Producer", "Subscription", "create_bus"]


def create_bus(settings: Settings) -> Bus:
    if settings.bus == "kafka":
        from prasmes_runtime.bus.kafka import Fetching, KafkaBus, KafkaSecurity

        return KafkaBus(
            settings.kafka_bootstrap_servers,
            partitions=settings.kafka_partitions,
            retention_ms=settings.kafka_retention_ms,
            security=KafkaSecurity.from_settings(settings),
            fetching=Fetching(settings.kafka_fetch_min_bytes, settings.kafka_fetch_max_wait_ms),
        )
    from prasmes_runtime.bus.embedded import EmbeddedBus

    return EmbeddedBus(settings.resolved_event_log_path())
