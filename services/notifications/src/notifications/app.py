"""Composition root of the notifications service: `uvicorn --factory notifications.app:app_factory`."""

from __future__ import annotations

from pathlib import Path

from prasmes_runtime.service import ServiceDefinition

from notifications.api import ROUTERS
from notifications.consumers import CONSUMERS

DEFINITION = ServiceDefinition(
    name="notifications",
    title="Prasmes notifications",
    description="Notices to learners, providers and agency staff.",
    routers=ROUTERS,
    migrations_dir=Path(__file__).resolve().parents[2] / "migrations",
    consumers=CONSUMERS,
)
create_app = DEFINITION.create_app
app_factory = DEFINITION.app_factory
