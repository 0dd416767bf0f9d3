"""What the statistics routers share: who may call, the instant figures are as of, a project filter, the adapters."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Query
from prasmes_runtime import roles
from prasmes_runtime.auth import Principal, require_person
from prasmes_runtime.dependencies import ClockDep, ContextDep
from prasmes_runtime.errors import InvalidInput, Violation
from pydantic import AwareDatetime

from prasmes_statistics.domain.figures import Instant
from prasmes_statistics.settings import StatisticsAdapters, StatisticsSettings

Agency = Annotated[Principal, Depends(require_person(*roles.AGENCY))]
"""The full dashboard, its exports, the anomaly flags and the rebuild's progress: `roles.AGENCY`."""
AgencyAdmin = Annotated[Principal, Depends(require_person(*roles.AGENCY_ADMINS))]
"""Starting a rebuild: `roles.AGENCY_ADMINS`."""

PROJECT_PATTERN = r"^[0-9A-Za-zĀČĒĢĪĶĻŅŠŪŽāčēģīķļņšūž_-]{1,30}$"
Project = Annotated[
    str | None,
    Query(pattern=PROJECT_PATTERN, description="A funding project's code (e.g. IMK); none: every project."),
]


EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(3000, 1, 1, tzinfo=UTC)


async def _as_of(
    clock: ClockDep,
    as_of: Annotated[
        AwareDatetime | None,
        Query(description="The instant the figures are as of, with its offset (ISO 8601), 2000 to 2999; default: now."),
    ] = None,
) -> Instant:
    if as_of is None:
        return Instant(clock.now(), given=False)
    if not EARLIEST <= as_of < LATEST:
        raise InvalidInput(Violation("as_of", "out_of_range", "as_of must lie from the year 2000 to the year 2999"))
    return Instant(as_of, given=True)


AsOf = Annotated[Instant, Depends(_as_of)]


async def _adapters(context: ContextDep) -> StatisticsAdapters:
    adapters = context.adapters
    assert isinstance(adapters, StatisticsAdapters)
    return adapters


AdaptersDep = Annotated[StatisticsAdapters, Depends(_adapters)]


async def _settings(context: ContextDep) -> StatisticsSettings:
    settings = context.settings
    assert isinstance(settings, StatisticsSettings)
    return settings


SettingsDep = Annotated[StatisticsSettings, Depends(_settings)]
