"""What the surveys routers share: who may call (role groups; partner systems get nothing) and the settings."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from prasmes_runtime import roles
from prasmes_runtime.auth import Principal, require_person, require_role
from prasmes_runtime.dependencies import ContextDep

from surveys.settings import SurveysSettings

Learner = Annotated[Principal, Depends(require_role(*roles.LEARNERS))]
"""A learner's own surveys: `roles.LEARNERS`."""
Reader = Annotated[Principal, Depends(require_person(*roles.AGENCY, *roles.PROVIDER))]
"""Results: agency staff every scope, an institution's users their own (`roles.AGENCY`, `roles.PROVIDER`)."""
Agency = Annotated[Principal, Depends(require_person(*roles.AGENCY))]
"""The platform's results, quality flags and exports: `roles.AGENCY`."""
AgencyAdmin = Annotated[Principal, Depends(require_person(*roles.AGENCY_ADMINS))]
"""The demo's replay (development only): `roles.AGENCY_ADMINS`."""


async def _settings(context: ContextDep) -> SurveysSettings:
    settings = context.settings
    assert isinstance(settings, SurveysSettings)
    return settings


SettingsDep = Annotated[SurveysSettings, Depends(_settings)]
