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
from prasmes_runtime.consumer import ConsumerSpec, Handlers
from prasmes_runtime.context import EventContext

from notifications import service

handlers = Handlers()


@handlers.on(AccountOpened)
async def on_account_opened(ctx: EventContext, event: AccountOpened) -> None:
    await service.welcome(ctx.session, event, ctx.envelope, ctx.clock)


@handlers.on(ApplicationApproved)
async def on_approved(ctx: EventContext, event: ApplicationApproved) -> None:
    await service.grant_changed(
        ctx.session,
        "application_approved",
        event.learner_id,
        event.project_code,
        str(event.grant_amount),
        ctx.envelope,
        ctx.clock,
    )


@handlers.on(ApplicationRejected)
async def on_rejected(ctx: EventContext, event: ApplicationRejected) -> None:
    await service.grant_changed(
        ctx.session, "application_rejected", event.learner_id, event.project_code, None, ctx.envelope, ctx.clock
    )


@handlers.on(ApplicationLapsed)
async def on_lapsed(ctx: EventContext, event: ApplicationLapsed) -> None:
    await service.grant_changed(
        ctx.session, "application_lapsed", event.learner_id, event.project_code, None, ctx.envelope, ctx.clock
    )


@handlers.on(GrantSpent)
async def on_spent(ctx: EventContext, event: GrantSpent) -> None:
    await service.grant_changed(
        ctx.session, "grant_spent", event.learner_id, event.project_code, str(event.amount), ctx.envelope, ctx.clock
    )


@handlers.on(GrantReleased)
async def on_released(ctx: EventContext, event: GrantReleased) -> None:
    if event.cause == "lapsed":
        return  # the lapse notice already says so
    await service.grant_changed(
        ctx.session, "grant_released", event.learner_id, event.project_code, str(event.amount), ctx.envelope, ctx.clock
    )


CONSUMERS = [ConsumerSpec(name="notifications", handlers=handlers)]
