"""Composition root of the accounts service: `uvicorn --factory accounts.app:app_factory`."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from prasmes_runtime.clock import Clock, SystemClock
from prasmes_runtime.service import ServiceDefinition, create_service_app
from prasmes_runtime.settings import Settings

from accounts.api import router
from accounts.consumers import CONSUMERS

DEFINITION = ServiceDefinition(
    name="accounts",
    title="Prasmes accounts",
    description="Learning accounts (individuālie mācību konti) of adult learners.",
    routers=[router],
    migrations_dir=Path(__file__).resolve().parents[2] / "migrations",
    publishes=["accounts.accounts"],
    consumers=CONSUMERS,
)


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> FastAPI:
    app = create_service_app(DEFINITION, settings)
    app.state.clock = clock or SystemClock()
    return app


def app_factory() -> FastAPI:
    return create_app()
