"""Events the notifications service reacts to."""

from __future__ import annotations

from prasmes_contracts import CloudEvent
from prasmes_contracts.accounts import (
    AccountOpened,
    ApplicationApproved,
    ApplicationLapsed,
    ApplicationRejected,
    GrantReleased,
    GrantSpent,
)
from prasmes_runtime.clock import SystemClock
from prasmes_runtime.consumer import ConsumerSpec, Handlers
from sqlalchemy.ext.asyncio import AsyncSession

from notifications import service

handlers = Handlers()
clock = SystemClock()


@handlers.on(AccountOpened)
async def on_account_opened(session: AsyncSession, event: AccountOpened, envelope: CloudEvent) -> None:
    await service.welcome(session, event, envelope, clock)


@handlers.on(ApplicationApproved)
async def on_approved(session: AsyncSession, event: ApplicationApproved, envelope: CloudEvent) -> None:
    await service.grant_changed(
        session, "application_approved", event.learner_id, event.project_code, str(event.grant_amount), envelope, clock
    )


@handlers.on(ApplicationRejected)
async def on_rejected(session: AsyncSession, event: ApplicationRejected, envelope: CloudEvent) -> None:
    await service.grant_changed(
        session, "application_rejected", event.learner_id, event.project_code, None, envelope, clock
    )


@handlers.on(ApplicationLapsed)
async def on_lapsed(session: AsyncSession, event: ApplicationLapsed, envelope: CloudEvent) -> None:
    await service.grant_changed(
        session, "application_lapsed", event.learner_id, event.project_code, None, envelope, clock
    )


@handlers.on(GrantSpent)
async def on_spent(session: AsyncSession, event: GrantSpent, envelope: CloudEvent) -> None:
    await service.grant_changed(
        session, "grant_spent", event.learner_id, event.project_code, str(event.amount), envelope, clock
    )


@handlers.on(GrantReleased)
async def on_released(session: AsyncSession, event: GrantReleased, envelope: CloudEvent) -> None:
    if event.cause == "lapsed":
        return  # the lapse notice already says so
    await service.grant_changed(
        session, "grant_released", event.learner_id, event.project_code, str(event.amount), envelope, clock
    )


CONSUMERS = [
    ConsumerSpec(
        name="notifications",
        topics=["accounts.accounts", "accounts.applications", "accounts.grants"],
        handlers=handlers,
    ),
]
