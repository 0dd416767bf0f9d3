"""The outbox: written with the state change or not at all; the relay publishes in order and resumes."""

import asyncio
import fcntl
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from accounts.app import DEFINITION
from prasmes_contracts import KafkaRecord, from_kafka
from prasmes_contracts.accounts import AccountOpened
from prasmes_runtime import migrations
from prasmes_runtime import outbox as outbox_module
from prasmes_runtime.bus import BusUnavailable
from prasmes_runtime.bus.embedded import EmbeddedBus
from prasmes_runtime.db import Database
from prasmes_runtime.messaging import outbox
from prasmes_runtime.outbox import OutboxRelay, record_event


class FlakyProducer:
    """Takes `accept` records, then fails like a broker going away."""

    def __init__(self, accept: int) -> None:
        self.accept = accept
        self.sent: list[tuple[str, KafkaRecord]] = []

    async def start(self) -> None: ...
    async def stop(self) -> None: ...

    async def send_many(self, items: Sequence[tuple[str, KafkaRecord]]) -> None:
        if len(self.sent) + len(items) > self.accept:
            raise BusUnavailable("broker gone")
        self.sent += items


@pytest.fixture
async def database(database_url: str) -> Database:
    await asyncio.to_thread(migrations.upgrade, DEFINITION.migrations_dir, database_url)
    return Database(database_url)


def _opened(n: int) -> AccountOpened:
    return AccountOpened(
        account_id=f"00000000-0000-4000-8000-{n:012d}", learner_id=f"l-{n}", opened_at="2026-11-30T09:00:00Z"
    )


async def _write(database: Database, ns: range) -> None:
    async with database.transaction() as session:
        for n in ns:
            await record_event(session, _opened(n))


async def _pending(database: Database) -> int:
    async with database.session() as session:
        return int(await session.scalar(sa.select(sa.func.count()).where(outbox.c.dispatched_at.is_(None))) or 0)


async def _on_sqlite(tmp_path: Path) -> tuple[str, Database, EmbeddedBus]:
    """A migrated SQLite database for a relay in the background, and the embedded log it publishes to."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'accounts.db'}"
    await asyncio.to_thread(migrations.upgrade, DEFINITION.migrations_dir, url)
    return url, Database(url), EmbeddedBus(tmp_path / "events.db")


async def _stopped(task: asyncio.Task[None], database: Database) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await database.dispose()


async def _published(bus: EmbeddedBus, expected: int, timeout: float = 2.5) -> None:
    """Until the topic holds `expected` events (the relay runs in the background)."""
    for _ in range(int(timeout / 0.05)):
        if len(await bus.read_all("accounts.accounts")) == expected:
            return
        await asyncio.sleep(0.05)
    assert len(await bus.read_all("accounts.accounts")) == expected


@pytest.mark.postgres
async def test_an_event_of_a_rolled_back_transaction_is_never_published(database: Database) -> None:
    with pytest.raises(RuntimeError):
        async with database.transaction() as session:
            await record_event(session, _opened(1))
            raise RuntimeError("the state change failed")
    producer = FlakyProducer(accept=100)
    assert await OutboxRelay(database, producer).publish_pending() == 0
    assert producer.sent == []


@pytest.mark.postgres
async def test_the_relay_publishes_in_order_once_and_marks_rows(database: Database) -> None:
    await _write(database, range(30))
    producer = FlakyProducer(accept=1000)
    relay = OutboxRelay(database, producer, batch_size=7)
    while await relay.publish_pending():
        pass
    learners = [from_kafka(record).data["learner_id"] for _, record in producer.sent]
    assert learners == [f"l-{n}" for n in range(30)]
    assert {topic for topic, _ in producer.sent} == {"accounts.accounts"}
    assert producer.sent[0][1].key == str(_opened(0).account_id).encode()
    assert await _pending(database) == 0


@pytest.mark.postgres
async def test_after_a_broker_failure_a_new_relay_resumes_where_the_old_stopped(database: Database) -> None:
    await _write(database, range(10))
    failing = FlakyProducer(accept=5)
    relay = OutboxRelay(database, failing, batch_size=5)
    assert await relay.publish_pending() == 5
    with pytest.raises(BusUnavailable):
        await relay.publish_pending()
    assert await _pending(database) == 5  # nothing of the failed batch was marked
    fresh = FlakyProducer(accept=100)
    assert await OutboxRelay(database, fresh).publish_pending() == 5
    assert [from_kafka(r).data["learner_id"] for _, r in fresh.sent] == [f"l-{n}" for n in range(5, 10)]


async def test_the_relay_loop_wakes_on_commit_and_survives_outages(tmp_path: Path) -> None:
    _, database, bus = await _on_sqlite(tmp_path)
    relay = OutboxRelay(database, bus.producer(), poll_interval=30)  # only the commit signal can wake it soon
    task = asyncio.create_task(relay.run())
    try:
        await asyncio.sleep(0.2)
        await _write(database, range(3))
        await _published(bus, 3)
    finally:
        await _stopped(task, database)


async def test_a_relay_that_finds_the_lock_taken_stands_by_without_waking_on_commits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With N workers every commit would otherwise cost N lock attempts: a standby tries every `standby_interval`,
    whatever is committed, and takes over within that interval once the holder lets go."""
    _, database, bus = await _on_sqlite(tmp_path)
    attempts = 0
    acquire = outbox_module._FileLease.acquire

    async def counted(self: Any, conn: Any) -> bool:
        nonlocal attempts
        attempts += 1
        return await acquire(self, conn)

    monkeypatch.setattr(outbox_module._FileLease, "acquire", counted)
    holder = os.open(f"{tmp_path / 'accounts.db'}.relay-lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(holder, fcntl.LOCK_EX)  # another worker's relay
    relay = OutboxRelay(database, bus.producer(), poll_interval=30, standby_interval=0.25)
    task = asyncio.create_task(relay.run())
    try:
        started = asyncio.get_running_loop().time()
        for n in range(40):  # each commit sets the relay's wake-up signal
            await _write(database, range(n, n + 1))
            await asyncio.sleep(0.025)
        standing_by = asyncio.get_running_loop().time() - started
        assert await bus.read_all("accounts.accounts") == [], "the lock's holder publishes, not the standby"
        assert 1 <= attempts <= standing_by / 0.25 + 2, f"{attempts} attempts in {standing_by:.2f} s, 40 commits"

        os.close(holder)  # the holder's process ended, and its lock with it
        await _published(bus, 40)
    finally:
        await _stopped(task, database)


async def test_an_idle_relay_on_sqlite_keeps_its_slowest_look_across_poll_turns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Probing another process's commits backs off to 8 x `probe_interval` and stays there while nothing comes (the
    poll interval's turn does not start it again at the fastest step); a row committed elsewhere is still found."""
    url, database, bus = await _on_sqlite(tmp_path)
    writer = Database(url)  # another process's api, whose commits set no signal
    looks = 0
    has_pending = OutboxRelay._has_pending

    async def counted(self: OutboxRelay) -> bool:
        nonlocal looks
        looks += 1
        return await has_pending(self)

    monkeypatch.setattr(OutboxRelay, "_has_pending", counted)
    relay = OutboxRelay(database, bus.producer(), poll_interval=0.5, probe_interval=0.025)
    task = asyncio.create_task(relay.run())
    try:
        await asyncio.sleep(3)
        slowest = 8 * 0.025
        assert looks <= 3 / slowest + 6, f"{looks} looks in 3 s idle"  # without the kept step: ~30
        await _write(writer, range(1))
        await _published(bus, 1)
    finally:
        await _stopped(task, database)
        await writer.dispose()
