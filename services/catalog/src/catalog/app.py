"""Composition root of the catalog service: `uvicorn --factory catalog.app:app_factory`."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from prasmes_contracts.catalog import TOPICS
from prasmes_runtime.clock import Clock
from prasmes_runtime.service import ServiceDefinition, create_service_app
from prasmes_runtime.settings import Settings
from pydantic import Field

from catalog.api import router
from catalog.consumers import consumer_specs
from catalog.registers import DEFAULT_DATA_FILE, FileRegisters, Registers

DESCRIPTION = (
    "Education institutions (registration, approval within one working day, their users and implementation "
    "locations), programmes with costs computed by the platform, study groups, and the public catalogue. "
    "A provider's users are invited by their platform user id: there is no user directory yet."
)


class CatalogSettings(Settings):
    service_name: str = "catalog"
    registers_file: Path = DEFAULT_DATA_FILE
    """The seeded extract of the register of education institutions and VIIS (the local adapter)."""
    max_document_bytes: int = Field(default=8 * 1024 * 1024, gt=0)
    """Uploads above this are refused with 422 (rule max_size); the gateway refuses bodies over 10 MiB with 413."""


def definition(consumer_group: str = "catalog") -> ServiceDefinition:
    return ServiceDefinition(
        name="catalog",
        title="Prasmes catalog",
        description=DESCRIPTION,
        routers=[router],
        migrations_dir=Path(__file__).resolve().parents[2] / "migrations",
        publishes=[topic.name for topic in TOPICS],
        consumers=consumer_specs(consumer_group),
    )


DEFINITION = definition()


def create_app(
    settings: Settings | None = None,
    clock: Clock | None = None,
    registers: Registers | None = None,
    consumer_group: str = "catalog",
) -> FastAPI:
    catalog_settings = CatalogSettings(**settings.model_dump()) if settings is not None else CatalogSettings()
    app = create_service_app(definition(consumer_group), catalog_settings, clock)
    app.state.registers = registers or FileRegisters(catalog_settings.registers_file)
    return app


def app_factory() -> FastAPI:
    return create_app()
