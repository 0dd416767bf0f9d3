"""Composition root of the catalog service: `uvicorn --factory catalog.app:app_factory`."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from prasmes_runtime.service import ServiceDefinition, create_service_app
from prasmes_runtime.settings import Settings

from catalog.api import router
from catalog.consumers import CONSUMERS

DEFINITION = ServiceDefinition(
    name="catalog",
    title="Prasmes catalog",
    description="Education institutions, their users and locations, programmes, study groups, the public catalogue.",
    routers=[router],
    migrations_dir=Path(__file__).resolve().parents[2] / "migrations",
    consumers=CONSUMERS,
)


def create_app(settings: Settings | None = None) -> FastAPI:
    return create_service_app(DEFINITION, settings)


def app_factory() -> FastAPI:
    return create_app()
