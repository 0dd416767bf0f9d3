"""Composition root of the surveys service: `uvicorn --factory surveys.app:app_factory`."""

from __future__ import annotations

from pathlib import Path

from prasmes_runtime.service import ServiceDefinition

from surveys.api import ROUTERS
from surveys.consumers import CONSUMERS

DEFINITION = ServiceDefinition(
    name="surveys",
    title="Prasmes surveys",
    description="Study evaluation surveys and ratings.",
    routers=ROUTERS,
    migrations_dir=Path(__file__).resolve().parents[2] / "migrations",
    consumers=CONSUMERS,
)
create_app = DEFINITION.create_app
app_factory = DEFINITION.app_factory
