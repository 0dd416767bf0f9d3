"""What every calls router shares: who may call (role groups; partner systems get nothing), the request base that
refuses unknown fields and control characters, the actor of a use case, the settings and adapters."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from prasmes_runtime import roles
from prasmes_runtime.auth import Principal, require_person
from prasmes_runtime.dependencies import ContextDep
from prasmes_runtime.schemas import StrictTextModel

from calls.adapters.registers import Registers
from calls.service.offers import Actor
from calls.settings import CallsAdapters, CallsSettings


class CallsIn(StrictTextModel):
    """A request body of calls: unknown fields are refused, and so is a control character in any text."""


AgencyAdmin = Annotated[Principal, Depends(require_person(*roles.AGENCY_ADMINS))]
"""Calls, their timelines and learning needs: `roles.AGENCY_ADMINS`."""
Agency = Annotated[Principal, Depends(require_person(*roles.AGENCY))]
"""Officer work (evaluation) and the agency's views: `roles.AGENCY` (an officer or an admin)."""
Reader = Annotated[Principal, Depends(require_person(*roles.AGENCY, *roles.PROVIDER))]
"""Reads: agency staff any, provider users their institution's (`roles.AGENCY`, `roles.PROVIDER`)."""
ProviderAdmin = Annotated[Principal, Depends(require_person(*roles.PROVIDER_ADMINS))]
"""An institution's offer is made by its provider_admin (`roles.PROVIDER_ADMINS`)."""
ProviderUser = Annotated[Principal, Depends(require_person(*roles.PROVIDER))]


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
