"""The relay's pipeline: the next batch is read while the current one awaits its acks, yet batches leave strictly
one after another, a row is marked only once its batch is acknowledged, each batch is marked by one statement, a
failure or a crash leaves the unacknowledged rows for the next turn, and one relay at a time holds a database."""

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest
import sqlalchemy as sa
from accounts.app import DEFINITION
from prasmes_contracts import KafkaRecord, from_kafka
from prasmes_contracts.accounts import AccountOpened
from prasmes_runtime import migrations
from prasmes_runtime.bus import BusUnavailable
from prasmes_runtime.db import Database
from prasmes_runtime.messaging import outbox
from prasmes_runtime.outbox import OutboxRelay, record_event
from prasmes_testing.support import eventually

pytestmark = pytest.mark.postgres  # every test runs on SQLite and on PostgreSQL (`database_url`)


@pytest.fixture
async def database(database_url: str) -> Any:
    await asyncio.to_thread(migrations.upgrade, DEFINITION.migrations_dir, database_url)
    database = Database(database_url)
    yield database
    await database.dispose()


def _opened(n: int) -> AccountOpened:
    return AccountOpened(
        account_id=f"00000000-0000-4000-8000-{n % 5:012d}",  # five keys, many events each
        learner_id=f"l-{n}",
        opened_at="2026-11-30T09:00:00Z",
    )


async def _write(database: Database, ns: range) -> None:
    async with database.transaction() as session:
        for n in ns:
            await record_event(session, _opened(n))


async def _ids(database: Database, *, dispatched: bool) -> list[int]:
    condition = outbox.c.dispatched_at.is_not(None) if dispatched else outbox.c.dispatched_at.is_(None)
    async with database.session() as session:
        return list((await session.execute(sa.select(outbox.c.id).where(condition).order_by(outbox.c.id))).scalars())


def _learners(items: Sequence[tuple[str, KafkaRecord]]) -> list[str]:
    return [from_kafka(record).data["learner_id"] for _, record in items]


class Recording:
    """A producer whose acks take a while; it checks, as each batch arrives, that none is in flight and that none
    of the batch's rows is marked yet, and it can fail one batch like a broker going away."""

    def __init__(self, database: Database, ack_delay: float = 0.02, fail_batch: int | None = None) -> None:
        self.database, self.ack_delay, self.fail_batch = database, ack_delay, fail_batch
        self.batches: list[list[str]] = []
        self.events: list[tuple[str, int]] = []
        self.in_flight = 0
        self.overlapping = 0
        self.marked_too_early = 0

    async def start(self) -> None: ...
    async def stop(self) -> None: ...

    async def send_many(self, items: Sequence[tuple[str, KafkaRecord]]) -> None:
        self.in_flight += 1
        number = len(self.batches)
        self.events.append(("send", number))
        try:
            self.overlapping += self.in_flight > 1
            ids = {record.header("ce_id") for _, record in items}
            async with self.database.session() as session:
                marked = await session.scalar(
                    sa.select(sa.func.count()).where(outbox.c.event_id.in_(ids), outbox.c.dispatched_at.is_not(None))
                )
            self.marked_too_early += int(marked or 0)
            self.batches.append(_learners(items))
            await asyncio.sleep(self.ack_delay)
            if number == self.fail_batch:
                self.events.append(("failed", number))
                raise BusUnavailable("broker gone")
            self.events.append(("acked", number))
        finally:
            self.in_flight -= 1


async def test_batches_leave_one_after_another_in_id_order_and_are_marked_only_once_acknowledged(
    database: Database,
) -> None:
    await _write(database, range(60))
    producer = Recording(database)
    relay = OutboxRelay(database, producer, batch_size=7, batches_per_turn=4)
    turns = []
    while published := await relay.publish_pending():
        turns.append(published)
    assert turns == [28, 28, 4], "turns of at most four batches"
    assert [len(batch) for batch in producer.batches] == [7] * 8 + [4]
    assert [learner for batch in producer.batches for learner in batch] == [f"l-{n}" for n in range(60)]
    assert producer.overlapping == 0, "a batch was sent while the one before it awaited its acks"
    assert producer.marked_too_early == 0, "a row was marked before its batch was acknowledged"
    assert await _ids(database, dispatched=False) == []


async def test_the_next_batch_is_read_while_the_current_one_awaits_its_acks(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _write(database, range(30))
    producer = Recording(database, ack_delay=0.3)  # long enough for a read on a busy machine
    relay = OutboxRelay(database, producer, batch_size=10)
    read = relay._read

    async def recorded(conn: Any, after: int | None) -> Any:
        batch = await read(conn, after)
        producer.events.append(("read rows after id", after or 0))
        return batch

    monkeypatch.setattr(relay, "_read", recorded)
    assert await relay.publish_pending() == 30
    # Batch 1 (ids 11..20) was read and encoded between batch 0's send and its ack, batch 2 during batch 1's flight.
    assert producer.events == [
        ("read rows after id", 0),
        ("send", 0),
        ("read rows after id", 10),
        ("acked", 0),
        ("send", 1),
        ("read rows after id", 20),
        ("acked", 1),
        ("send", 2),
        ("read rows after id", 30),  # nothing more
        ("acked", 2),
    ]


async def test_each_batch_is_marked_by_one_statement_a_range_or_a_list(database: Database) -> None:
    await _write(database, range(20))
    async with database.transaction() as session:  # gaps in the ids: a list for the batch that has them
        await session.execute(outbox.delete().where(outbox.c.id.in_([3, 5])))
    statements: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE OUTBOX"):
            statements.append(" ".join(statement.split()))

    sa.event.listen(database.engine.sync_engine, "before_cursor_execute", before)
    try:
        assert await OutboxRelay(database, Recording(database, 0), batch_size=6).publish_pending() == 18
    finally:
        sa.event.remove(database.engine.sync_engine, "before_cursor_execute", before)
    assert len(statements) == 3, statements  # 18 rows, batches of 6: one UPDATE each
    assert " IN (" in statements[0] and "BETWEEN" not in statements[0]  # ids 1, 2, 4, 6, 7, 8
    assert all("BETWEEN" in s and " IN (" not in s for s in statements[1:])  # 9..14, 15..20
    assert await _ids(database, dispatched=False) == []


async def test_a_batch_the_bus_fails_and_all_after_it_stay_unmarked_and_a_new_relay_resumes_in_order(
    database: Database,
) -> None:
    await _write(database, range(50))
    failing = Recording(database, fail_batch=2)
    # Batch 2 fails while batch 1's mark and batch 3's read are under way: both finish, batch 3 is never sent.
    assert await OutboxRelay(database, failing, batch_size=10).publish_pending() == 20
    assert [len(b) for b in failing.batches] == [10, 10, 10]
    assert len(await _ids(database, dispatched=True)) == 20
    with pytest.raises(BusUnavailable):  # the next turn meets the failure at once
        await OutboxRelay(database, Recording(database, fail_batch=0), batch_size=10).publish_pending()
    fresh = Recording(database)
    assert await OutboxRelay(database, fresh, batch_size=10).publish_pending() == 30
    assert [learner for batch in fresh.batches for learner in batch] == [f"l-{n}" for n in range(20, 50)]


async def test_a_relay_stopped_mid_batch_leaves_that_batch_unmarked_and_the_next_relay_sends_it_again(
    database: Database,
) -> None:
    await _write(database, range(40))
    blocked = asyncio.Event()

    class Hangs(Recording):
        async def send_many(self, items: Sequence[tuple[str, KafkaRecord]]) -> None:
            if len(self.batches) == 2:
                self.batches.append(_learners(items))
                blocked.set()
                await asyncio.Event().wait()  # acks that never come: the process dies here
            await super().send_many(items)

    first = Hangs(database, ack_delay=0)
    task = asyncio.create_task(OutboxRelay(database, first, batch_size=10).run())
    await asyncio.wait_for(blocked.wait(), 30)

    async def two_batches_marked() -> bool:
        return await _ids(database, dispatched=True) == list(range(1, 21))

    await eventually(two_batches_marked, timeout=10, interval=0.02)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert await _ids(database, dispatched=False) == list(range(21, 41)), "the batch in flight was not marked"
    again = Recording(database, ack_delay=0)
    assert await OutboxRelay(database, again, batch_size=10).publish_pending() == 20
    assert again.batches[0] == first.batches[2], "the unacknowledged batch is sent again, first"


async def test_while_one_relay_holds_the_database_another_sends_nothing(database: Database) -> None:
    await _write(database, range(10))
    sending, release = asyncio.Event(), asyncio.Event()

    class Waits(Recording):
        async def send_many(self, items: Sequence[tuple[str, KafkaRecord]]) -> None:
            sending.set()
            await release.wait()
            await super().send_many(items)

    holder = Waits(database, ack_delay=0)
    first = asyncio.create_task(OutboxRelay(database, holder, batch_size=5).publish_pending())
    await asyncio.wait_for(sending.wait(), 30)
    other = Recording(database, ack_delay=0)
    second = Database(database.url)  # as another process would: its own engine, its own connections
    try:
        assert await OutboxRelay(second, other, batch_size=5).publish_pending() == 0
        release.set()
        assert await first == 10
        assert other.batches == []
        assert await OutboxRelay(second, other, batch_size=5).publish_pending() == 0  # nothing left
    finally:
        await second.dispose()


async def test_commits_of_another_process_wake_the_relay(database: Database) -> None:
    """The writer has its own engine (as an api process has), so its commits cannot set the relay's in-process
    signal; the poll interval is 30 s: only NOTIFY (PostgreSQL) or the worker's probe (SQLite) can wake it."""
    producer = Recording(database, ack_delay=0)
    relay = OutboxRelay(database, producer, poll_interval=30, probe_interval=0.025)
    task = asyncio.create_task(relay.run())
    writer = Database(database.url)
    try:
        await asyncio.sleep(0.3)  # the relay is idle (and, on PostgreSQL, listening)
        await _write(writer, range(3))

        async def published() -> bool:
            assert not task.done(), task
            return sum(len(batch) for batch in producer.batches) == 3

        await eventually(published, timeout=10, interval=0.02)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await writer.dispose()
