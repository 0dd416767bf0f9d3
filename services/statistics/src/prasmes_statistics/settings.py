"""The statistics service's settings and adapters: the bus, read for a rebuild's progress."""

from __future__ import annotations

from dataclasses import dataclass

from prasmes_runtime.bus import Bus, create_bus
from prasmes_runtime.settings import Settings


class StatisticsSettings(Settings):
    service_name: str = "statistics"


@dataclass(frozen=True)
class StatisticsAdapters:
    bus: Bus
    """How far the projection's consumer group has come on each topic (a rebuild's progress)."""


def build_adapters(settings: StatisticsSettings) -> StatisticsAdapters:
    return StatisticsAdapters(bus=create_bus(settings))
