"""What every catalog router shares: who may call (the role groups, persons but not partner systems), the query
parameters a route knows, the catalog's settings and adapters. The routers have no prefix: the service's paths
start at its root (the gateway adds `/api/catalog`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from prasmes_runtime import roles
from prasmes_runtime.auth import Principal, require_person, require_role
from prasmes_runtime.dependencies import ContextDep
from prasmes_runtime.schemas import StrictTextModel

from catalog.adapters.directory import Directory
from catalog.adapters.registers import Registers
from catalog.settings import CatalogAdapters, CatalogSettings


class CatalogIn(StrictTextModel):
    """A request body of catalog: unknown fields are refused, and so is a control character in any text."""


Person = Annotated[Principal, Depends(require_person())]
"""A signed-in person (learner, provider or agency staff): partner systems are machine clients and are refused."""
Agency = Annotated[Principal, Depends(require_role(*roles.AGENCY))]
"""Agency staff (officer or admin): approvals, any programme, any document."""
Provider = Annotated[Principal, Depends(require_person(*roles.PROVIDER))]
"""An education institution's user (admin or staff), whichever institution: what needs no institution's data."""
AgencyAdmin = Annotated[Principal, Depends(require_role(*roles.AGENCY_ADMINS))]
RegisterReader = Annotated[Principal, Depends(require_person(*roles.AGENCY, *roles.PROVIDER))]


TOTAL_HEADER = "X-Total-Count"
"""How many items a filtered list holds before paging (its body is the page)."""


def is_agency(principal: Principal) -> bool:
    return principal.has_any(roles.AGENCY)


def _bearer_token(request: Request, _: Person) -> str:
    """The caller's own token, forwarded to the identity provider (who decides what it answers them)."""
    return request.headers.get("authorization", "").partition(" ")[2].strip()


def _adapters(context: ContextDep) -> CatalogAdapters:
    adapters: CatalogAdapters = context.adapters
    return adapters


def _registers(adapters: Annotated[CatalogAdapters, Depends(_adapters)]) -> Registers:
    return adapters.registers


def _directory(adapters: Annotated[CatalogAdapters, Depends(_adapters)]) -> Directory:
    return adapters.directory


def _settings(context: ContextDep) -> CatalogSettings:
    settings: CatalogSettings = context.settings  # type: ignore[assignment]
    return settings


BearerToken = Annotated[str, Depends(_bearer_token)]
RegistersDep = Annotated[Registers, Depends(_registers)]
DirectoryDep = Annotated[Directory, Depends(_directory)]
SettingsDep = Annotated[CatalogSettings, Depends(_settings)]
