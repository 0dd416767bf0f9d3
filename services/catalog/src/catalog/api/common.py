"""What every catalog router shares: the role groups it requires, the catalog's settings and adapters."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends
from prasmes_runtime import roles
from prasmes_runtime.auth import Principal, require_role
from prasmes_runtime.dependencies import ContextDep

from catalog.adapters.registers import Registers
from catalog.settings import CatalogAdapters, CatalogSettings

PREFIX = "/catalog"
PUBLIC: dict[str, Any] = {"security": []}
"""OpenAPI: the route needs no token."""

Agency = Annotated[Principal, Depends(require_role(*roles.AGENCY))]
"""Agency staff (officer or admin): approvals, any programme, any document."""
AgencyAdmin = Annotated[Principal, Depends(require_role(*roles.AGENCY_ADMINS))]
RegisterReader = Annotated[Principal, Depends(require_role(*roles.AGENCY, *roles.PROVIDER))]


def is_agency(principal: Principal) -> bool:
    return principal.has_any(roles.AGENCY)


def _registers(context: ContextDep) -> Registers:
    adapters: CatalogAdapters = context.adapters
    return adapters.registers


def _settings(context: ContextDep) -> CatalogSettings:
    settings: CatalogSettings = context.settings  # type: ignore[assignment]
    return settings


RegistersDep = Annotated[Registers, Depends(_registers)]
SettingsDep = Annotated[CatalogSettings, Depends(_settings)]
