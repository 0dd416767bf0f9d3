"""What the eventing tests share: a notifications database, AccountOpened events in an outbox, a
welcome handler that stores one notice per event, and counting."""

import asyncio
import uuid

import sqlalchemy as sa
from notifications.app import DEFINITION as NOTIFICATIONS
from notifications.db.notices import notices
from prasmes_contracts.accounts import AccountOpened
from prasmes_runtime import migrations
from prasmes_runtime.bus import Bus
from prasmes_runtime.consumer import ConsumerSpec, EventConsumer, Handlers
from prasmes_runtime.context import EventContext
from prasmes_runtime.db import Database
from prasmes_runtime.messaging import outbox
from prasmes_runtime.outbox import record_event


async def migrated(url: str) -> Database:
    """A database with the notifications service's tables (and the outbox and inbox)."""
    await asyncio.to_thread(migrations.upgrade, NOTIFICATIONS.migrations_dir, url)
    return Database(url)


async def count(database: Database, query: sa.Select[tuple[int]]) -> int:
    async with database.session() as session:
        return int(await session.scalar(query) or 0)


def notice_count() -> sa.Select[tuple[int]]:
    return sa.select(sa.func.count()).select_from(notices)


async def emit(database: Database, n: int, prefix: str = "learner") -> None:
    """n AccountOpened events into the outbox, as the accounts service writes them."""
    async with database.transaction() as session:
        for i in range(n):
            event = AccountOpened(
                account_id=f"00000000-0000-4000-8000-{i:012d}",
                learner_id=f"{prefix}-{i}",
                opened_at="2026-11-30T09:00:00Z",
            )
            await record_event(session, event)


async def all_published(database: Database) -> bool:
    """The relay has published every row of the outbox."""
    pending = sa.select(sa.func.count()).select_from(outbox).where(outbox.c.dispatched_at.is_(None))
    return await count(database, pending) == 0


def welcome_handlers(fail_for: set[str] | None = None) -> Handlers:
    handlers = Handlers()

    @handlers.on(AccountOpened)
    async def welcome(ctx: EventContext, event: AccountOpened) -> None:
        if fail_for and event.learner_id in fail_for:
            raise RuntimeError(f"bug: cannot welcome {event.learner_id}")
        await ctx.session.execute(
            notices.insert().values(
                id=uuid.uuid4(),
                recipient_id=event.learner_id,
                kind="welcome",
                title="{}",
                body="{}",
                created_at=event.opened_at,
                cause_event_id=ctx.envelope.id,
            )
        )

    return handlers


def event_consumer(bus: Bus, database: Database, group: str, topic: str, handlers: Handlers) -> EventConsumer:
    return EventConsumer(
        ConsumerSpec(group, handlers, [topic]), bus, database, bus.producer(), max_attempts=3, retry_backoff=0.05
    )
