"""Composition root of the accounts service: `uvicorn --factory accounts.app:app_factory`."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from prasmes_contracts.accounts import TOPICS
from prasmes_runtime.clock import Clock
from prasmes_runtime.service import PeriodicJob, ServiceDefinition, create_service_app
from prasmes_runtime.settings import Settings

from accounts.api import ROUTERS
from accounts.consumers import CONSUMERS
from accounts.service.applications import lapse_overdue

DEFINITION = ServiceDefinition(
    name="accounts",
    title="Prasmes accounts",
    description="Learning accounts (individuālie mācību konti) of adult learners.",
    routers=ROUTERS,
    migrations_dir=Path(__file__).resolve().parents[2] / "migrations",
    publishes=[topic.name for topic in TOPICS],
    jobs=[PeriodicJob("lapse-overdue", 900, lambda runtime: lapse_overdue(runtime.database, runtime.clock))],
    consumers=CONSUMERS,
)


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> FastAPI:
    return create_service_app(DEFINITION, settings, clock)


def app_factory() -> FastAPI:
    return create_app()
