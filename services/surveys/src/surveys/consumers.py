"""Events the surveys service reacts to: accounts' completed and discontinued studies invite to a survey; when
studies started and the learners' DigComp self-assessments give the skill gain; catalog's provider users and
programmes say who may read which institution's results and what a programme is called."""

from __future__ import annotations

from prasmes_contracts.accounts import DigCompAssessed, StudiesCompleted, StudiesDiscontinued, StudiesStarted
from prasmes_contracts.catalog import ProgrammeRegistered, ProviderUserAdded, ProviderUserRemoved
from prasmes_runtime.consumer import ConsumerSpec, Handlers
from prasmes_runtime.context import EventContext

from surveys.service import results, surveys
from surveys.settings import SurveysSettings

handlers = Handlers()


@handlers.on(StudiesCompleted, StudiesDiscontinued)
async def on_studies_ended(ctx: EventContext, event: StudiesCompleted | StudiesDiscontinued) -> None:
    settings = ctx.settings
    assert isinstance(settings, SurveysSettings)
    await surveys.invite(ctx.session, event, ctx.clock.now(), settings.timing(), settings.quality_rules())


@handlers.on(StudiesStarted)
async def on_studies_started(ctx: EventContext, event: StudiesStarted) -> None:
    await results.studies_started(ctx.session, event.enrolment_id, event.started_on)


@handlers.on(DigCompAssessed)
async def on_assessed(ctx: EventContext, event: DigCompAssessed) -> None:
    await results.assessed(ctx.session, event.learner_id, event.assessed_on, event.level)


@handlers.on(ProviderUserAdded)
async def on_provider_user_added(ctx: EventContext, event: ProviderUserAdded) -> None:
    await results.provider_user_added(ctx.session, event.user_id, event.institution_id)


@handlers.on(ProviderUserRemoved)
async def on_provider_user_removed(ctx: EventContext, event: ProviderUserRemoved) -> None:
    await results.provider_user_removed(ctx.session, event.user_id, event.institution_id)


@handlers.on(ProgrammeRegistered)
async def on_programme_registered(ctx: EventContext, event: ProgrammeRegistered) -> None:
    title = event.title.get("lv") or next(iter(event.title.values()), "")
    await results.programme_registered(ctx.session, event.programme_id, event.institution_id, title)


CONSUMERS = [ConsumerSpec(name="surveys", handlers=handlers)]
