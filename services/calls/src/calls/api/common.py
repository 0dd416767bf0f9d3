"""What every calls router shares: who may call (role groups; partner systems get nothing), the request base that
refuses unknown fields and control characters, the actor of a use case, the settings and adapters."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from prasmes_runtime import roles
from prasmes_runtime.auth import Principal, require_role
from prasmes_runtime.dependencies import ContextDep
from prasmes_runtime.errors import Forbidden
from prasmes_runtime.schemas import StrictTextModel

from calls.adapters.registers import Registers
from calls.service.offers import Actor
from calls.settings import CallsAdapters, CallsSettings


class CallsIn(StrictTextModel):
    """A request body of calls: unknown fields are refused, and so is a control character in any text."""


def _no_partner(principal: Principal) -> Principal:
    if principal.has_any((roles.PARTNER,)):
        raise Forbidden("partner systems have no provider or agency actions: they follow the public events")
    return principal


async def _agency_admin(principal: Annotated[Principal, Depends(require_role(*roles.AGENCY_ADMINS))]) -> Principal:
    return _no_partner(principal)


async def _agency(principal: Annotated[Principal, Depends(require_role(*roles.AGENCY))]) -> Principal:
    return _no_partner(principal)


async def _reader(
    principal: Annotated[Principal, Depends(require_role(*roles.AGENCY, *roles.PROVIDER))],
) -> Principal:
    return _no_partner(principal)


async def _provider_admin(
    principal: Annotated[Principal, Depends(require_role(*roles.PROVIDER_ADMINS))],
) -> Principal:
    return _no_partner(principal)


async def _provider(principal: Annotated[Principal, Depends(require_role(*roles.PROVIDER))]) -> Principal:
    return _no_partner(principal)


_agency_admin.allowed_roles = frozenset(roles.AGENCY_ADMINS)  # type: ignore[attr-defined]
_agency.allowed_roles = frozenset(roles.AGENCY)  # type: ignore[attr-defined]
_reader.allowed_roles = frozenset(roles.AGENCY + roles.PROVIDER)  # type: ignore[attr-defined]
_provider_admin.allowed_roles = frozenset(roles.PROVIDER_ADMINS)  # type: ignore[attr-defined]
_provider.allowed_roles = frozenset(roles.PROVIDER)  # type: ignore[attr-defined]

AgencyAdmin = Annotated[Principal, Depends(_agency_admin)]
"""Calls, their timelines and learning needs: `roles.AGENCY_ADMINS`."""
Agency = Annotated[Principal, Depends(_agency)]
"""Officer work (evaluation) and the agency's views: `roles.AGENCY` (an officer or an admin)."""
Reader = Annotated[Principal, Depends(_reader)]
"""Reads: agency staff any, provider users their institution's (`roles.AGENCY`, `roles.PROVIDER`)."""
ProviderAdmin = Annotated[Principal, Depends(_provider_admin)]
"""An institution's offer is made by its provider_admin (`roles.PROVIDER_ADMINS`)."""
ProviderUser = Annotated[Principal, Depends(_provider)]


def actor_of(request: Request, principal: Principal) -> Actor:
    token = request.headers.get("authorization", "").partition(" ")[2].strip()
    return Actor(principal.subject, principal.has_any(roles.AGENCY) and not principal.has_any(roles.PROVIDER), token)


async def _settings(context: ContextDep) -> CallsSettings:
    settings = context.settings
    assert isinstance(settings, CallsSettings)
    return settings


async def _registers(context: ContextDep) -> Registers:
    adapters = context.adapters
    assert isinstance(adapters, CallsAdapters)
    return adapters.registers


SettingsDep = Annotated[CallsSettings, Depends(_settings)]
RegistersDep = Annotated[Registers, Depends(_registers)]
