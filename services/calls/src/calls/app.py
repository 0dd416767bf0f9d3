"""Composition root of the calls service: `uvicorn --factory calls.app:app_factory`."""

from __future__ import annotations

from pathlib import Path

from prasmes_runtime.service import ServiceDefinition

from calls.api import ROUTERS
from calls.consumers import CONSUMERS

DEFINITION = ServiceDefinition(
    name="calls",
    title="Prasmes calls",
    description="Calls to education institutions, their offers, and the evaluation of offers.",
    routers=ROUTERS,
    migrations_dir=Path(__file__).resolve().parents[2] / "migrations",
    consumers=CONSUMERS,
)
create_app = DEFINITION.create_app
app_factory = DEFINITION.app_factory
