"""Composition root of the calls service: `uvicorn --factory calls.app:app_factory`."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from prasmes_runtime.service import ServiceDefinition, create_service_app
from prasmes_runtime.settings import Settings

from calls.api import router
from calls.consumers import CONSUMERS

DEFINITION = ServiceDefinition(
    name="calls",
    title="Prasmes calls",
    description="Calls to education institutions, their offers, and the evaluation of offers.",
    routers=[router],
    migrations_dir=Path(__file__).resolve().parents[2] / "migrations",
    consumers=CONSUMERS,
)


def create_app(settings: Settings | None = None) -> FastAPI:
    return create_service_app(DEFINITION, settings)


def app_factory() -> FastAPI:
    return create_app()
