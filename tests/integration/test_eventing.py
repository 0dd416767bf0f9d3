"""Reliable eventing on real PostgreSQL and a real Kafka broker (and, where the test is about the
behaviour rather than the broker, the embedded log too): outbox, inbox, dead letters, replay."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from notifications.db.notices import notices
from prasmes_contracts import KafkaRecord
from prasmes_devtools.devstack import Stack, free_base_port
from prasmes_runtime import dlq
from prasmes_runtime.bus import Bus, Delivered
from prasmes_runtime.bus.embedded import EmbeddedBus
from prasmes_runtime.bus.kafka import KafkaBus
from prasmes_runtime.db import Database
from prasmes_runtime.messaging import inbox
from prasmes_runtime.outbox import OutboxRelay
from prasmes_testing.servers import create_database
from prasmes_testing.waiting import caught_up, processes_alive, supervised, until

from tests.integration.eventing_support import (
    all_published,
    count,
    emit,
    event_consumer,
    migrated,
    notice_count,
    welcome_handlers,
)

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


@pytest.fixture
def topic(unique: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A topic of its own for each test, so tests on one broker do not see each other's events."""
    name = f"accounts.accounts.{unique}"
    monkeypatch.setattr("prasmes_runtime.outbox.topic_for", lambda _: SimpleNamespace(name=name))
    return name


async def test_a_poison_message_is_dead_lettered_and_replayed_once_after_a_fix(
    bus: Bus, postgres_url: str, topic: str, unique: str
) -> None:
    database = await migrated(postgres_url)
    await bus.ensure_topics([topic, f"{topic}.dlq"])
    relay = OutboxRelay(database, bus.producer())
    await emit(database, 5)
    broken = KafkaRecord(
        key=b"x", value=b"{not json", headers=[(h, b"1") for h in ("ce_id", "ce_source", "ce_type", "ce_specversion")]
    )
    producer = bus.producer()
    await producer.send_many([(topic, broken)])
    await producer.stop()
    group = f"notifications.{unique}"
    consumer = event_consumer(bus, database, group, topic, welcome_handlers(fail_for={"learner-2"}))
    letters: list[dlq.DeadLetter] = []
    async with supervised(relay.run(), consumer.run()) as tasks:
        await until(lambda: all_published(database), tasks=tasks, what="the outbox published")
        await caught_up(bus, group, [topic], tasks=tasks)  # every record handled or dead-lettered
        letters[:] = await dlq.list_dead_letters(bus, topic)
    assert await count(database, notice_count()) == 4
    assert len(letters) == 2, letters
    errors = sorted(letter.error or "" for letter in letters)
    assert "PoisonRecord: event data is not JSON" in errors[0]  # never retried: it cannot improve
    assert "RuntimeError: bug: cannot welcome learner-2" in errors[1]
    assert all(letter.consumer == group for letter in letters)
    if isinstance(bus, EmbeddedBus):  # the operator's command sees the same dead letters
        listed = _dlq_cli("list", topic, bus)
        assert sorted(json.loads(line)["error"] for line in listed.splitlines()) == errors

    fixed = event_consumer(bus, database, group, topic, welcome_handlers())
    async with supervised(fixed.run()) as tasks:
        assert await dlq.replay(bus, topic) == 2
        await caught_up(bus, group, [topic], tasks=tasks)
        assert await count(database, notice_count()) == 5
        # The poison record failed once more (it cannot improve): three letters now.
        assert len(await dlq.list_dead_letters(bus, topic)) == 3
        assert await dlq.replay(bus, topic) == 3  # replaying again: the fixed event is a redelivery now
        await caught_up(bus, group, [topic], tasks=tasks)  # the repeated records were consumed, not pending
    assert await count(database, notice_count()) == 5
    per_learner = sa.select(sa.func.count(sa.distinct(notices.c.recipient_id)))
    assert await count(database, per_learner) == 5
    # The redelivered event was a no-op, not a failure: the only letter that is not the poison record
    # is still the first one.
    after = await dlq.list_dead_letters(bus, topic)
    assert [letter.error for letter in after if "PoisonRecord" not in (letter.error or "")] == [errors[1]]
    assert len(after) == 5


async def _has(database: Database, query: sa.Select[tuple[int]], expected: int) -> bool:
    return await count(database, query) >= expected


async def test_replaying_a_topic_from_offset_zero_changes_nothing(
    bus: Bus, postgres_url: str, topic: str, unique: str
) -> None:
    database = await migrated(postgres_url)
    await bus.ensure_topics([topic, f"{topic}.dlq"])
    await emit(database, 50)
    group = f"notifications.{unique}"
    relay = OutboxRelay(database, bus.producer())
    async with supervised(relay.run(), event_consumer(bus, database, group, topic, welcome_handlers()).run()) as tasks:
        await until(lambda: all_published(database), tasks=tasks, what="the outbox published")
        await caught_up(bus, group, [topic], tasks=tasks)  # the group committed all 50
    before = await count(database, notice_count())
    await bus.rewind(group, topic)
    again = event_consumer(bus, database, group, topic, welcome_handlers())
    subscription = bus.subscription(group, [topic])
    await subscription.start()
    replayed: list[Delivered] = []
    try:
        deadline = time.monotonic() + 30
        while len(replayed) < 50 and time.monotonic() < deadline:
            replayed += await subscription.poll(0.5, 500)
        replayed += await subscription.poll(0.5, 500)  # and nothing beyond the 50
        for delivered in replayed:
            await again.process(delivered)  # a redelivery that failed would be dead-lettered: checked below
        await subscription.commit(replayed)
    finally:
        await subscription.stop()
    assert len(replayed) == 50  # the group really read the topic again from offset 0
    assert before == 50
    assert await count(database, notice_count()) == 50
    assert await count(database, sa.select(sa.func.count()).select_from(inbox)) == 50
    assert await dlq.list_dead_letters(bus, topic) == []  # no redelivery failed into the dead letters


async def test_each_event_takes_effect_once_across_a_consumer_killed_mid_stream(
    kafka_bootstrap: str, postgres_url: str, tmp_path: Path
) -> None:
    """The notifications service runs as a process; it is SIGKILLed while it works through 2 000 events."""
    accounts_db = await migrated(postgres_url.rsplit("/", 1)[0] + "/" + _fresh_db(postgres_url, "acc"))
    notifications_url = postgres_url.rsplit("/", 1)[0] + "/" + _fresh_db(postgres_url, "ntf")
    notifications_db = await migrated(notifications_url)
    bus = KafkaBus(kafka_bootstrap)
    await bus.ensure_topics(["accounts.accounts", "accounts.accounts.dlq"])
    prefix = f"killed-{time.monotonic_ns()}"
    await emit(accounts_db, 2000, prefix)
    mine = sa.select(sa.func.count()).select_from(notices).where(notices.c.recipient_id.like(f"{prefix}-%"))

    stack = Stack(
        var_dir=tmp_path,
        base_port=free_base_port(),
        bus="kafka",
        kafka_bootstrap=kafka_bootstrap,
        database_urls={"notifications": notifications_url},
    )
    relay = OutboxRelay(accounts_db, bus.producer())
    async with supervised(relay.run()) as tasks:
        stack.start(("notifications",))
        try:
            await until(lambda: _has(notifications_db, mine, 1), tasks=tasks, what="the first notice")
            stack.stop_service("notifications", signal.SIGKILL)
            killed_at = await count(notifications_db, mine)
            stack.start(("notifications",))
            await until(lambda: all_published(accounts_db), tasks=tasks, timeout=120, what="the outbox published")
            # The restarted process's group (the service's own, "notifications") committed every record.
            await caught_up(
                bus,
                "notifications",
                ["accounts.accounts"],
                timeout=120,
                tasks=tasks,
                healthy=processes_alive(stack.processes),
            )
        finally:
            stack.stop()
    assert 0 < killed_at < 2000, "the kill must land mid-stream"
    assert await count(notifications_db, mine) == 2000
    distinct = sa.select(sa.func.count(sa.distinct(notices.c.recipient_id))).where(
        notices.c.recipient_id.like(f"{prefix}-%")
    )
    assert await count(notifications_db, distinct) == 2000
    assert await dlq.list_dead_letters(bus, "accounts.accounts") == []


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
