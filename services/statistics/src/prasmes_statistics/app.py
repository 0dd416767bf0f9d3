"""Composition root of the statistics service: `uvicorn --factory prasmes_statistics.app:app_factory`."""

from __future__ import annotations

from pathlib import Path

from prasmes_runtime.service import ServiceDefinition

from prasmes_statistics.api import ROUTERS
from prasmes_statistics.consumers import CONSUMERS
from prasmes_statistics.settings import StatisticsSettings, build_adapters

DEFINITION = ServiceDefinition(
    name="statistics",
    title="Prasmes statistics",
    description="The platform's statistics, projected from every service's public events: accounts, applications "
    "and studies per funding project and application round, offers per call, the surveys; as of any instant, as "
    "daily series, exports and charts; rebuildable from the first offsets.",
    routers=ROUTERS,
    migrations_dir=Path(__file__).resolve().parents[2] / "migrations",
    consumers=CONSUMERS,
    settings=StatisticsSettings,
    adapters=build_adapters,
)
create_app = DEFINITION.create_app
app_factory = DEFINITION.app_factory
__all__ = ["StatisticsSettings", "create_app"]
