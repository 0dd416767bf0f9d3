"""Events the surveys service reacts to: accounts' completed and discontinued studies invite to a survey."""

from __future__ import annotations

from prasmes_contracts.accounts import StudiesCompleted, StudiesDiscontinued
from prasmes_runtime.consumer import ConsumerSpec, Handlers
from prasmes_runtime.context import EventContext

from surveys.service import surveys
from surveys.settings import SurveysSettings

handlers = Handlers()


@handlers.on(StudiesCompleted, StudiesDiscontinued)
async def on_studies_ended(ctx: EventContext, event: StudiesCompleted | StudiesDiscontinued) -> None:
    settings = ctx.settings
    assert isinstance(settings, SurveysSettings)
    await surveys.invite(ctx.session, event, ctx.clock.now(), settings.timing())


CONSUMERS = [ConsumerSpec(name="surveys", handlers=handlers)]
