"""The broker goes away and comes back; nothing is lost and nothing takes effect twice.

1. The broker stops while 500 accounts are opened through the API (the services run as processes); it
   starts again; every account gets exactly one welcome notice.
2. The broker is SIGKILLed in the middle of a relay batch of 2 000 events (half of the batch acknowledged,
   the rest in flight), then restarted: every event reaches the topic, the consumer applies each once.
"""

import asyncio
import os
import signal
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from notifications.db.notices import notices
from prasmes_contracts import KafkaRecord, from_kafka
from prasmes_devtools.devstack import Stack, free_base_port
from prasmes_runtime import dlq, migrations
from prasmes_runtime.bus import Producer
from prasmes_runtime.bus.kafka import KafkaBus
from prasmes_runtime.db import Database
from prasmes_runtime.messaging import inbox, outbox
from prasmes_runtime.outbox import OutboxRelay
from prasmes_testing.servers import LocalKafkaBroker, create_database
from prasmes_testing.support import personal_code
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

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.e2e]
ACCOUNTS = 500
EVENTS = 2000
ACKED_BEFORE_THE_KILL = 1000


@pytest.fixture
def broker() -> Iterator[LocalKafkaBroker]:
    """A broker of this test's own: it is stopped (or killed) and started again mid-test."""
    broker = LocalKafkaBroker()
    broker.start()
    try:
        yield broker
    finally:
        broker.close()


async def _open_all(stack: Stack, offset: int) -> list[int]:
    issuer = stack.token_issuer()
    limit = asyncio.Semaphore(16)

    async def open_one(client: httpx.AsyncClient, n: int) -> int:
        headers = {"Authorization": f"Bearer {issuer.issue(f'outage-{n}', ['learner'])}"}
        async with limit:
            response = await client.post(
                "/api/accounts/accounts", json={"personal_code": personal_code(offset + n)}, headers=headers
            )
        return response.status_code

    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=30) as client:
        return list(await asyncio.gather(*(open_one(client, n) for n in range(ACCOUNTS))))


async def test_accounts_opened_while_the_broker_is_down_all_get_one_welcome_notice(
    broker: LocalKafkaBroker, postgres_server_url: str, tmp_path: Path
) -> None:
    suffix = time.monotonic_ns()
    urls = {
        name: create_database(postgres_server_url, f"outage_{name}_{suffix}") for name in ("accounts", "notifications")
    }
    stack = Stack(
        var_dir=tmp_path,
        base_port=free_base_port(),
        bus="kafka",
        kafka_bootstrap=broker.bootstrap,
        database_urls=urls,
        extra_env={"RATE_LIMIT_PER_MINUTE": "1000000", "RATE_LIMIT_BURST": "100000"},
    )
    accounts_db, stored = Database(urls["accounts"]), Database(urls["notifications"])
    distinct = sa.select(sa.func.count(sa.distinct(notices.c.recipient_id)))
    try:
        stack.start(("gateway", "accounts", "notifications"))
        broker.stop()
        statuses = await _open_all(stack, offset=10_000)
        assert statuses == [201] * ACCOUNTS, "the API must answer every request while the broker is down"
        assert await count(stored, notice_count()) == 0  # nothing could have travelled yet
        broker.start()
        # Not a pause for duplicates to show up: every event left the outbox, and the notifications group
        # committed every record of the topic (the service's group is its name). Only then count.
        alive = processes_alive(stack.processes)
        await until(lambda: all_published(accounts_db), timeout=120, healthy=alive, what="the outbox published")
        await caught_up(KafkaBus(broker.bootstrap), "notifications", ["accounts.accounts"], timeout=120, healthy=alive)
        assert await count(stored, notice_count()) == ACCOUNTS
        assert await count(stored, distinct) == ACCOUNTS
        alive()
    finally:
        stack.stop()
        await stored.dispose()
        await accounts_db.dispose()


class KillsTheBrokerMidBatch:
    """The relay's own Kafka producer, except that during the first large batch the broker is SIGKILLed:
    the first `acked` records of the batch are acknowledged, the rest are being sent when it dies."""

    def __init__(self, inner: Producer, broker: LocalKafkaBroker, acked: int) -> None:
        self.inner, self.broker, self.acked = inner, broker, acked
        self.killed = asyncio.Event()
        self.interrupted_batch = ""
        """How the batch the broker died in ended: "acknowledged" (once the broker was back) or "failed"."""

    async def start(self) -> None:
        await self.inner.start()

    async def stop(self) -> None:
        await self.inner.stop()

    async def send_many(self, items: Sequence[tuple[str, KafkaRecord]]) -> None:
        if self.killed.is_set() or len(items) <= self.acked:
            await self.inner.send_many(items)
            return
        await self.inner.send_many(items[: self.acked])
        rest = asyncio.ensure_future(self.inner.send_many(items[self.acked :]))
        await asyncio.sleep(0.005)  # let the producer queue and send part of the rest
        _sigkill(self.broker)
        self.killed.set()
        try:
            await rest
        except BaseException:
            self.interrupted_batch = "failed"
            raise
        self.interrupted_batch = "acknowledged"


def _sigkill(broker: LocalKafkaBroker) -> None:
    process = broker._proc  # the JVM (its own process group); LocalKafkaBroker has no kill() of its own
    assert process is not None and process.poll() is None, "the broker is not running"
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


async def test_a_broker_killed_mid_batch_loses_nothing_and_nothing_takes_effect_twice(
    broker: LocalKafkaBroker, postgres_server_url: str, unique: str
) -> None:
    accounts_db = Database(create_database(postgres_server_url, f"kill_acc_{unique}"))
    await asyncio.to_thread(_upgrade_outbox, accounts_db.url)
    notifications_db = await migrated(create_database(postgres_server_url, f"kill_ntf_{unique}"))
    bus = KafkaBus(broker.bootstrap)
    topic, group = "accounts.accounts", f"notifications.{unique}"
    await bus.ensure_topics([topic, f"{topic}.dlq"])
    await emit(accounts_db, EVENTS, prefix=f"kill-{unique}")
    async with accounts_db.session() as session:
        emitted = set((await session.execute(sa.select(outbox.c.event_id))).scalars())
    producer = KillsTheBrokerMidBatch(bus.producer(), broker, acked=ACKED_BEFORE_THE_KILL)
    relay = OutboxRelay(accounts_db, producer, batch_size=EVENTS, max_backoff=1.0)
    consumer = event_consumer(bus, notifications_db, group, topic, welcome_handlers())
    try:
        async with supervised(relay.run(), consumer.run()) as tasks:
            await until(_is_set(producer.killed), tasks=tasks, timeout=60, what="the kill")
            # Half of the batch was acknowledged, yet none of its rows is marked: the batch is not done.
            assert await count(accounts_db, _pending()) == EVENTS
            await asyncio.to_thread(_restart, broker)
            await until(lambda: all_published(accounts_db), tasks=tasks, timeout=180, what="the outbox published")
            await caught_up(bus, group, [topic], timeout=180, tasks=tasks)
        assert producer.interrupted_batch in ("acknowledged", "failed")
        on_topic = [from_kafka(d.record).id for d in await bus.read_all(topic)]
        assert set(on_topic) == emitted, "every event is on the topic (and nothing else is)"
        # At least once: when the interrupted batch failed, the relay sent all of it again, so its
        # acknowledged half is on the topic twice; when it completed after the restart, maybe not.
        minimum = EVENTS + (ACKED_BEFORE_THE_KILL if producer.interrupted_batch == "failed" else 0)
        assert len(on_topic) >= minimum, (len(on_topic), producer.interrupted_batch)
        assert await count(notifications_db, notice_count()) == EVENTS
        distinct = sa.select(sa.func.count(sa.distinct(notices.c.cause_event_id)))
        assert await count(notifications_db, distinct) == EVENTS
        applied = sa.select(sa.func.count()).select_from(inbox).where(inbox.c.consumer == group)
        assert await count(notifications_db, applied) == EVENTS
        assert await dlq.list_dead_letters(bus, topic) == []
    finally:
        await producer.stop()
        await accounts_db.dispose()
        await notifications_db.dispose()


def _upgrade_outbox(url: str) -> None:
    """The accounts side needs only the outbox: the runtime's messaging tables."""
    migrations.upgrade(None, url)


def _pending() -> sa.Select[tuple[int]]:
    return sa.select(sa.func.count()).select_from(outbox).where(outbox.c.dispatched_at.is_(None))


def _is_set(event: asyncio.Event) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return event.is_set()

    return check


def _restart(broker: LocalKafkaBroker) -> None:
    broker.stop()  # the process is gone: this only closes its log and disarms its watchdog
    broker.start()
