"""Events the calls service reacts to: catalog's providers, their users, programmes, groups and coefficient tables,
and accounts' completed studies (the completers per group the institution criteria count). Thin: event -> use case."""

from __future__ import annotations

from prasmes_contracts.accounts import StudiesCompleted
from prasmes_contracts.catalog import (
    CoefficientTableChanged,
    GroupChanged,
    GroupScheduled,
    ProgrammeRegistered,
    ProviderApproved,
    ProviderRegistered,
    ProviderRejected,
    ProviderUserAdded,
    ProviderUserRemoved,
)
from prasmes_runtime.consumer import ConsumerSpec, Handlers
from prasmes_runtime.context import EventContext

from calls.service import readmodels

handlers = Handlers()


@handlers.on(ProviderRegistered)
async def on_provider_registered(ctx: EventContext, event: ProviderRegistered) -> None:
    await readmodels.provider_registered(ctx.session, event)


@handlers.on(ProviderApproved, ProviderRejected)
async def on_provider_decided(ctx: EventContext, event: ProviderApproved | ProviderRejected) -> None:
    await readmodels.provider_decided(ctx.session, event)


@handlers.on(ProviderUserAdded)
async def on_user_added(ctx: EventContext, event: ProviderUserAdded) -> None:
    await readmodels.provider_user_added(ctx.session, event)


@handlers.on(ProviderUserRemoved)
async def on_user_removed(ctx: EventContext, event: ProviderUserRemoved) -> None:
    await readmodels.provider_user_removed(ctx.session, event)


@handlers.on(ProgrammeRegistered)
async def on_programme_registered(ctx: EventContext, event: ProgrammeRegistered) -> None:
    await readmodels.programme_registered(ctx.session, event)


@handlers.on(GroupScheduled, GroupChanged)
async def on_group(ctx: EventContext, event: GroupScheduled | GroupChanged) -> None:
    await readmodels.group_changed(ctx.session, event)


@handlers.on(StudiesCompleted)
async def on_studies_completed(ctx: EventContext, event: StudiesCompleted) -> None:
    await readmodels.studies_completed(ctx.session, event)


@handlers.on(CoefficientTableChanged)
async def on_coefficients(ctx: EventContext, event: CoefficientTableChanged) -> None:
    await readmodels.coefficients_changed(ctx.session, event)


CONSUMERS = [ConsumerSpec(name="calls", handlers=handlers)]
