"""The outbox and inbox stop growing: published rows and old inbox entries are pruned, nothing else."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from prasmes_contracts.accounts import AccountOpened
from prasmes_runtime import migrations
from prasmes_runtime.clock import FixedClock
from prasmes_runtime.consumer import prune_inbox
from prasmes_runtime.context import ServiceContext
from prasmes_runtime.db import Database
from prasmes_runtime.messaging import inbox, outbox
from prasmes_runtime.outbox import prune_outbox, record_event
from prasmes_runtime.service import ServiceDefinition
from prasmes_runtime.settings import Settings
from prasmes_testing.harness import running
from prasmes_testing.support import eventually

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
async def database(database_url: str) -> Database:
    await asyncio.to_thread(migrations.upgrade, None, database_url)  # the messaging tables alone
    return Database(database_url)


def _context(database: Database, now: datetime = NOW) -> ServiceContext:
    return ServiceContext(Settings(), database, FixedClock(now))


async def _outbox_row(database: Database, n: int, dispatched_at: datetime | None) -> None:
    event = AccountOpened(account_id=uuid.UUID(int=n), learner_id=f"l-{n}", opened_at=NOW)
    async with database.transaction() as session:
        envelope = await record_event(session, event)
        await session.execute(
            outbox.update().where(outbox.c.event_id == envelope.id).values(dispatched_at=dispatched_at)
        )


async def _learners_in_outbox(database: Database) -> set[str]:
    async with database.session() as session:
        rows = (await session.execute(sa.select(outbox.c.partition_key))).scalars()
        return set(rows)


async def _inbox_entry(database: Database, event_id: str, processed_at: datetime) -> None:
    async with database.transaction() as session:
        await session.execute(
            inbox.insert().values(consumer="c", event_id=event_id, event_type="t", processed_at=processed_at)
        )


async def _inbox_ids(database: Database) -> set[str]:
    async with database.session() as session:
        return set((await session.execute(sa.select(inbox.c.event_id))).scalars())


@pytest.mark.postgres
async def test_only_published_rows_older_than_the_retention_are_pruned(database: Database) -> None:
    await _outbox_row(database, 1, NOW - timedelta(days=8))  # published long ago: goes
    await _outbox_row(database, 2, NOW - timedelta(days=6))  # published recently: stays
    await _outbox_row(database, 3, None)  # never published, however old: stays
    await _outbox_row(database, 4, NOW - timedelta(days=7, seconds=1))  # just past the retention: goes
    assert await prune_outbox(_context(database), timedelta(days=7)) == 2
    assert await _learners_in_outbox(database) == {str(uuid.UUID(int=2)), str(uuid.UUID(int=3))}
    assert await prune_outbox(_context(database), timedelta(days=7)) == 0  # and again: nothing more


@pytest.mark.postgres
async def test_inbox_entries_older_than_the_retention_are_forgotten(database: Database) -> None:
    await _inbox_entry(database, "old", NOW - timedelta(days=9))
    await _inbox_entry(database, "recent", NOW - timedelta(days=7))
    assert await prune_inbox(_context(database), timedelta(days=8)) == 1
    assert await _inbox_ids(database) == {"recent"}


async def test_the_default_inbox_retention_outlasts_the_bus_retention() -> None:
    """An entry may be forgotten only once the bus cannot redeliver its event (Kafka keeps 7 days by default)."""
    settings = Settings()
    assert settings.inbox_retention_hours > 7 * 24
    assert settings.outbox_retention_hours > 0


async def test_every_service_runs_both_pruning_jobs(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'svc.db'}"
    settings = Settings(
        service_name="pruned",
        database_url=url,
        var_dir=tmp_path,
        prune_interval=0.05,
        outbox_retention_hours=1,
        inbox_retention_hours=1,
    )
    app = ServiceDefinition(name="pruned", title="A service with no tables of its own").create_app(
        settings, FixedClock(NOW)
    )
    async with running(app):
        database: Database = app.state.runtime.database
        await _outbox_row(database, 1, NOW - timedelta(hours=2))
        await _outbox_row(database, 2, NOW - timedelta(minutes=10))
        await _inbox_entry(database, "old", NOW - timedelta(hours=2))
        await _inbox_entry(database, "recent", NOW - timedelta(minutes=10))

        async def pruned() -> bool:
            return await _learners_in_outbox(database) == {str(uuid.UUID(int=2))} and await _inbox_ids(database) == {
                "recent"
            }

        await eventually(pruned, timeout=20, interval=0.05)
        names = {task.get_name() for task in app.state.runtime.tasks if not task.done()}
        assert {"job-prune-outbox", "job-prune-inbox"} <= names
