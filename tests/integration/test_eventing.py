"""Reliable eventing on real PostgreSQL and a real Kafka broker (and, where the test is about the
behaviour rather than the broker, the embedded log too): outbox, inbox, dead letters, replay."""

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from notifications.app import DEFINITION as NOTIFICATIONS
from notifications.db import notices
from prasmes_contracts import KafkaRecord
from prasmes_contracts.accounts import AccountOpened
from prasmes_devtools.devstack import Stack, free_base_port
from prasmes_runtime import dlq, migrations
from prasmes_runtime.bus import Bus
from prasmes_runtime.bus.embedded import EmbeddedBus
from prasmes_runtime.bus.kafka import KafkaBus
from prasmes_runtime.consumer import ConsumerSpec, EventConsumer, Handlers
from prasmes_runtime.context import EventContext
from prasmes_runtime.db import Database
from prasmes_runtime.messaging import inbox
from prasmes_runtime.outbox import OutboxRelay, record_event
from prasmes_testing.servers import create_database

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


async def _migrated(url: str) -> Database:
    await asyncio.to_thread(migrations.upgrade, NOTIFICATIONS.migrations_dir, url)
    return Database(url)


async def _count(database: Database, query: sa.Select[tuple[int]]) -> int:
    async with database.session() as session:
        return int(await session.scalar(query) or 0)


def _notice_count() -> sa.Select[tuple[int]]:
    return sa.select(sa.func.count()).select_from(notices)


async def _eventually(check: Callable[[], Awaitable[bool]], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.2)
    raise AssertionError("condition not reached in time")


async def _emit(database: Database, n: int, prefix: str = "learner") -> None:
    """n AccountOpened events into the outbox, as the accounts service writes them."""
    async with database.transaction() as session:
        for i in range(n):
            event = AccountOpened(
                account_id=f"00000000-0000-4000-8000-{i:012d}",
                learner_id=f"{prefix}-{i}",
                opened_at="2026-11-30T09:00:00Z",
            )
            await record_event(session, event)


@contextlib.asynccontextmanager
async def _running(*coroutines: Awaitable[None]) -> AsyncIterator[None]:
    tasks = [asyncio.ensure_future(c) for c in coroutines]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _welcome_handlers(fail_for: set[str] | None = None) -> Handlers:
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


def _consumer(bus: Bus, database: Database, group: str, topic: str, handlers: Handlers) -> EventConsumer:
    return EventConsumer(
        ConsumerSpec(group, handlers, [topic]), bus, database, bus.producer(), max_attempts=3, retry_backoff=0.05
    )


@pytest.fixture
def topic(unique: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A topic of its own for each test, so tests on one broker do not see each other's events."""
    name = f"accounts.accounts.{unique}"
    monkeypatch.setattr("prasmes_runtime.outbox.topic_for", lambda _: SimpleNamespace(name=name))
    return name


async def test_a_poison_message_is_dead_lettered_and_replayed_once_after_a_fix(
    bus: Bus, postgres_url: str, topic: str, unique: str
) -> None:
    database = await _migrated(postgres_url)
    await bus.ensure_topics([topic, f"{topic}.dlq"])
    relay = OutboxRelay(database, bus.producer())
    await _emit(database, 5)
    broken = KafkaRecord(
        key=b"x", value=b"{not json", headers=[(h, b"1") for h in ("ce_id", "ce_source", "ce_type", "ce_specversion")]
    )
    producer = bus.producer()
    await producer.send_many([(topic, broken)])
    await producer.stop()
    group = f"notifications.{unique}"
    consumer = _consumer(bus, database, group, topic, _welcome_handlers(fail_for={"learner-2"}))
    async with _running(relay.run(), consumer.run()):
        await _eventually(lambda: _has(database, _notice_count(), 4))
        letters = []

        async def two_letters() -> bool:
            letters[:] = await dlq.list_dead_letters(bus, topic)
            return len(letters) == 2

        await _eventually(two_letters)
    errors = sorted(letter.error or "" for letter in letters)
    assert "PoisonRecord: event data is not JSON" in errors[0]  # never retried: it cannot improve
    assert "RuntimeError: bug: cannot welcome learner-2" in errors[1]
    assert all(letter.consumer == group for letter in letters)
    if isinstance(bus, EmbeddedBus):  # the operator's command sees the same dead letters
        listed = _dlq_cli("list", topic, bus)
        assert sorted(json.loads(line)["error"] for line in listed.splitlines()) == errors

    fixed = _consumer(bus, database, group, topic, _welcome_handlers())
    async with _running(fixed.run()):
        assert await dlq.replay(bus, topic) == 2
        await _eventually(lambda: _has(database, _notice_count(), 5))
        await dlq.replay(bus, topic)  # replaying again changes nothing
        await asyncio.sleep(2)
    assert await _count(database, _notice_count()) == 5
    per_learner = sa.select(sa.func.count(sa.distinct(notices.c.recipient_id)))
    assert await _count(database, per_learner) == 5


async def _has(database: Database, query: sa.Select[tuple[int]], expected: int) -> bool:
    return await _count(database, query) >= expected


async def test_replaying_a_topic_from_offset_zero_changes_nothing(
    bus: Bus, postgres_url: str, topic: str, unique: str
) -> None:
    database = await _migrated(postgres_url)
    await bus.ensure_topics([topic, f"{topic}.dlq"])
    await _emit(database, 50)
    group = f"notifications.{unique}"
    relay = OutboxRelay(database, bus.producer())
    async with _running(relay.run(), _consumer(bus, database, group, topic, _welcome_handlers()).run()):
        await _eventually(lambda: _has(database, _notice_count(), 50))
        await asyncio.sleep(1)  # let the last commit land
    before = await _count(database, _notice_count())
    await bus.rewind(group, topic)
    again = _consumer(bus, database, group, topic, _welcome_handlers())
    subscription = bus.subscription(group, [topic])
    await subscription.start()
    try:
        replayed = [d for _ in range(20) for d in await subscription.poll(0.5, 500)]
        for delivered in replayed:
            await again.process(delivered)
    finally:
        await subscription.stop()
    assert len(replayed) == 50  # the group really read the topic again from offset 0
    assert before == 50
    assert await _count(database, _notice_count()) == 50
    assert await _count(database, sa.select(sa.func.count()).select_from(inbox)) == 50


async def test_each_event_takes_effect_once_across_a_consumer_killed_mid_stream(
    kafka_bootstrap: str, postgres_url: str, tmp_path: Path
) -> None:
    """The notifications service runs as a process; it is SIGKILLed while it works through 2 000 events."""
    accounts_db = await _migrated(postgres_url.rsplit("/", 1)[0] + "/" + _fresh_db(postgres_url, "acc"))
    notifications_url = postgres_url.rsplit("/", 1)[0] + "/" + _fresh_db(postgres_url, "ntf")
    notifications_db = await _migrated(notifications_url)
    bus = KafkaBus(kafka_bootstrap)
    await bus.ensure_topics(["accounts.accounts", "accounts.accounts.dlq"])
    prefix = f"killed-{time.monotonic_ns()}"
    await _emit(accounts_db, 2000, prefix)
    mine = sa.select(sa.func.count()).select_from(notices).where(notices.c.recipient_id.like(f"{prefix}-%"))

    stack = Stack(
        var_dir=tmp_path,
        base_port=free_base_port(),
        bus="kafka",
        kafka_bootstrap=kafka_bootstrap,
        database_urls={"notifications": notifications_url},
    )
    relay = OutboxRelay(accounts_db, bus.producer())
    async with _running(relay.run()):
        stack.start(("notifications",))
        try:
            await _eventually(lambda: _has(notifications_db, mine, 1))
            stack.stop_service("notifications", signal.SIGKILL)
            killed_at = await _count(notifications_db, mine)
            stack.start(("notifications",))
            await _eventually(lambda: _has(notifications_db, mine, 2000), timeout=120)
            await asyncio.sleep(2)  # any duplicate would land now
        finally:
            stack.stop()
    assert 0 < killed_at < 2000, "the kill must land mid-stream"
    assert await _count(notifications_db, mine) == 2000
    distinct = sa.select(sa.func.count(sa.distinct(notices.c.recipient_id))).where(
        notices.c.recipient_id.like(f"{prefix}-%")
    )
    assert await _count(notifications_db, distinct) == 2000


def _dlq_cli(command: str, topic: str, bus: EmbeddedBus) -> str:
    env = {**os.environ, "BUS": "embedded", "EVENT_LOG_PATH": str(bus.path)}
    done = subprocess.run(
        [sys.executable, "-m", "prasmes_runtime.dlq", command, "--topic", topic],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout


def _fresh_db(postgres_url: str, tag: str) -> str:
    name = f"{tag}_{time.monotonic_ns()}"
    create_database(postgres_url, name)
    return name
