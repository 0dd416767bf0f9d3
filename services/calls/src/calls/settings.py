"""The calls service's settings and adapters, as its `ServiceDefinition` declares them."""

from __future__ import annotations

from dataclasses import dataclass

from prasmes_runtime.registry import default_urls
from prasmes_runtime.settings import Settings
from pydantic import Field

from calls.adapters.registers import HttpRegisters, Registers
from calls.domain.evaluations import DEFAULT_CLARIFICATION_WORKING_DAYS


class CallsSettings(Settings):
    service_name: str = "calls"
    catalog_url: str = ""
    """Where catalog serves the registers' extract (CATALOG_URL); empty: catalog's entry of SERVICE_URLS."""
    service_urls: dict[str, str] = Field(default_factory=default_urls)
    """The services' base URLs (SERVICE_URLS, JSON; the launcher sets it), default the one-machine layout."""
    max_attachment_bytes: int = Field(default=8 * 1024 * 1024, gt=0)
    """An offer's attachment above this is refused with 422 (rule max_size)."""
    clarification_working_days: int = Field(default=DEFAULT_CLARIFICATION_WORKING_DAYS, ge=1, le=60)
    """A clarification is answered by the end of this many Latvian working days after the day it was asked."""

    def resolved_catalog_url(self) -> str:
        return self.catalog_url or self.service_urls.get("catalog") or default_urls()["catalog"]


@dataclass(frozen=True)
class CallsAdapters:
    registers: Registers


def build_adapters(settings: CallsSettings) -> CallsAdapters:
    return CallsAdapters(registers=HttpRegisters(settings.resolved_catalog_url()))
