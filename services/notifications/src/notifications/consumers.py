"""Events the notifications service reacts to."""

from __future__ import annotations

from prasmes_contracts.accounts import (
    AccountOpened,
    ApplicationApproved,
    ApplicationLapsed,
    ApplicationRejected,
    GrantReleased,
    GrantSpent,
)
from prasmes_contracts.surveys import SurveyInvited, SurveyReminded
from prasmes_runtime.consumer import ConsumerSpec, Handlers
from prasmes_runtime.context import EventContext

from notifications.domain.notices import SILENT_RELEASES
from notifications.service import notices as service

handlers = Handlers()


@handlers.on(AccountOpened)
async def on_account_opened(ctx: EventContext, event: AccountOpened) -> None:
    await service.welcome(ctx, event)


@handlers.on(ApplicationApproved)
async def on_approved(ctx: EventContext, event: ApplicationApproved) -> None:
    await service.grant_changed(
        ctx, "application_approved", event.learner_id, event.project_code, str(event.grant_amount)
    )


@handlers.on(ApplicationRejected)
async def on_rejected(ctx: EventContext, event: ApplicationRejected) -> None:
    await service.grant_changed(ctx, "application_rejected", event.learner_id, event.project_code, None)


@handlers.on(ApplicationLapsed)
async def on_lapsed(ctx: EventContext, event: ApplicationLapsed) -> None:
    await service.grant_changed(ctx, "application_lapsed", event.learner_id, event.project_code, None)


@handlers.on(GrantSpent)
async def on_spent(ctx: EventContext, event: GrantSpent) -> None:
    await service.grant_changed(ctx, "grant_spent", event.learner_id, event.project_code, str(event.amount))


@handlers.on(GrantReleased)
async def on_released(ctx: EventContext, event: GrantReleased) -> None:
    if event.cause in SILENT_RELEASES:
        return
    await service.grant_changed(ctx, "grant_released", event.learner_id, event.project_code, str(event.amount))


@handlers.on(SurveyInvited, SurveyReminded)
async def on_survey_invitation(ctx: EventContext, event: SurveyInvited | SurveyReminded) -> None:
    await service.survey_invitation(ctx, event)


CONSUMERS = [ConsumerSpec(name="notifications", handlers=handlers)]
