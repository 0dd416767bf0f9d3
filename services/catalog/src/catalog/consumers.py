"""Events the catalog service reacts to: calls' agreements publish and withdraw programmes, and its calls say which
funding project each serves; accounts' enrolments fill study groups and its study record feeds the completion and
dropout rates; surveys' ratings are shown in the public catalogue."""

from __future__ import annotations

from prasmes_contracts.accounts import EnrolmentConfirmed, StudiesCompleted, StudiesDiscontinued, StudiesStarted
from prasmes_contracts.calls import CallOpened, CooperationAgreementEnded, CooperationAgreementSigned
from prasmes_contracts.surveys import ProgrammeRatingChanged
from prasmes_runtime.consumer import ConsumerSpec, Handlers
from prasmes_runtime.context import EventContext

from catalog.service import catalogue, groups, programmes

handlers = Handlers()


@handlers.on(CooperationAgreementSigned)
async def on_agreement_signed(ctx: EventContext, event: CooperationAgreementSigned) -> None:
    await programmes.agreement_signed(ctx.session, event)


@handlers.on(CooperationAgreementEnded)
async def on_agreement_ended(ctx: EventContext, event: CooperationAgreementEnded) -> None:
    await programmes.agreement_ended(ctx.session, event)


@handlers.on(CallOpened)
async def on_call_opened(ctx: EventContext, event: CallOpened) -> None:
    await catalogue.call_opened(ctx.session, event)


@handlers.on(EnrolmentConfirmed)
async def on_enrolment_confirmed(ctx: EventContext, event: EnrolmentConfirmed) -> None:
    await groups.enrolment_confirmed(ctx.session, event)


@handlers.on(StudiesStarted, StudiesDiscontinued, StudiesCompleted)
async def on_study_progress(ctx: EventContext, event: groups.StudyProgress) -> None:
    await groups.study_progress(ctx.session, event)


@handlers.on(ProgrammeRatingChanged)
async def on_rating_changed(ctx: EventContext, event: ProgrammeRatingChanged) -> None:
    await catalogue.rating_changed(ctx.session, event, ctx.clock)


CONSUMERS = [ConsumerSpec(name="catalog", handlers=handlers)]
