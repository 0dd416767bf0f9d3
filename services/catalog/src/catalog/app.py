"""Composition root of the catalog service: `uvicorn --factory catalog.app:app_factory`."""

from __future__ import annotations

from pathlib import Path

from prasmes_runtime.service import ServiceDefinition

from catalog.api import ROUTERS
from catalog.consumers import CONSUMERS
from catalog.settings import CatalogAdapters, CatalogSettings, build_adapters

DESCRIPTION = (
    "Education institutions (registration, approval within one working day, their users and implementation "
    "locations), programmes with costs computed by the platform, study groups, and the public catalogue. "
    "A provider's users are invited by their user name or e-mail address, as the identity provider knows them; "
    "their names are asked of it at request time and never stored here."
)

DEFINITION = ServiceDefinition(
    name="catalog",
    title="Prasmes catalog",
    description=DESCRIPTION,
    routers=ROUTERS,
    migrations_dir=Path(__file__).resolve().parents[2] / "migrations",
    consumers=CONSUMERS,
    settings=CatalogSettings,
    adapters=build_adapters,
)
create_app = DEFINITION.create_app
app_factory = DEFINITION.app_factory
__all__ = ["CatalogAdapters", "CatalogSettings", "create_app"]
