"""Events the notifications service reacts to."""

from __future__ import annotations

from prasmes_contracts import CloudEvent
from prasmes_contracts.accounts import AccountOpened
from prasmes_runtime.clock import SystemClock
from prasmes_runtime.consumer import ConsumerSpec, Handlers
from sqlalchemy.ext.asyncio import AsyncSession

from notifications import service

handlers = Handlers()
clock = SystemClock()


@handlers.on(AccountOpened)
async def on_account_opened(session: AsyncSession, event: AccountOpened, envelope: CloudEvent) -> None:
    await service.welcome(session, event, envelope, clock)


CONSUMERS = [ConsumerSpec(name="notifications", topics=["accounts.accounts"], handlers=handlers)]
