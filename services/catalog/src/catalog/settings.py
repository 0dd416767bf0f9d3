"""The catalog service's settings and adapters, as its `ServiceDefinition` declares them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from prasmes_runtime.settings import Settings
from pydantic import Field

from catalog.adapters.directory import Directory, HttpDirectory
from catalog.adapters.registers import DEFAULT_DATA_FILE, FileRegisters, Registers


class CatalogSettings(Settings):
    service_name: str = "catalog"
    registers_file: Path = DEFAULT_DATA_FILE
    """The seeded extract of the register of education institutions and VIIS (the local adapter)."""
    max_document_bytes: int = Field(default=8 * 1024 * 1024, gt=0)
    """Uploads above this are refused with 422 (rule max_size); the gateway refuses bodies over 10 MiB with 413."""
    search_cache: bool = True
    """Answer a search asked again within a few seconds from memory (`catalog.service.catalogue.SEARCH_SECONDS`);
    off, every search is read from the database (the benchmark's measure of a search never asked before)."""


@dataclass(frozen=True)
class CatalogAdapters:
    registers: Registers
    directory: Directory


def build_adapters(settings: CatalogSettings) -> CatalogAdapters:
    return CatalogAdapters(
        registers=FileRegisters(settings.registers_file), directory=HttpDirectory(settings.identity_url)
    )
