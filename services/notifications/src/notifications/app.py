"""Composition root of the notifications service: `uvicorn --factory notifications.app:app_factory`."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from prasmes_runtime.clock import Clock
from prasmes_runtime.service import ServiceDefinition, create_service_app
from prasmes_runtime.settings import Settings

from notifications.api import router
from notifications.consumers import CONSUMERS

DEFINITION = ServiceDefinition(
    name="notifications",
    title="Prasmes notifications",
    description="Notices to learners, providers and agency staff.",
    routers=[router],
    migrations_dir=Path(__file__).resolve().parents[2] / "migrations",
    consumers=CONSUMERS,
)


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> FastAPI:
    return create_service_app(DEFINITION, settings, clock)


def app_factory() -> FastAPI:
    return create_app()
