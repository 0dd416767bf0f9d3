"""A batched consumer (a projection's: a polled batch in one transaction, without inbox rows) applies every record
once and in order, on Kafka and on the embedded log alike: the last of a key's events wins, a record that is not a
CloudEvent and a record its handler cannot apply go to the dead letters, and every other record of their batches
still takes effect."""

import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from prasmes_contracts import CloudEvent, KafkaRecord, to_kafka
from prasmes_contracts.accounts import AccountOpened
from prasmes_runtime import dlq
from prasmes_runtime.bus import Bus
from prasmes_runtime.consumer import Batched, ConsumerSpec, EventConsumer, Handlers
from prasmes_runtime.context import EventContext, ServiceContext
from prasmes_runtime.db import Database, upsert_many
from prasmes_testing.waiting import caught_up, supervised
from sqlalchemy.ext.asyncio import AsyncSession

metadata = sa.MetaData()
latest = sa.Table(
    "latest",
    metadata,
    sa.Column("learner_id", sa.String(40), primary_key=True),
    sa.Column("account_id", sa.Uuid(), nullable=False),
    sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
)
"""Per learner, the last account opened (a row each event of the learner sets again)."""
GATHERED = "test.gathered"
BROKEN = "learner-broken"


def _handlers() -> Handlers:
    handlers = Handlers()

    @handlers.on(AccountOpened)
    async def gather(ctx: EventContext, event: AccountOpened) -> None:
        if event.learner_id == BROKEN:
            raise RuntimeError("bug: cannot project learner-broken")
        rows: dict[str, dict[str, Any]] = ctx.session.info.setdefault(GATHERED, {})
        rows[event.learner_id] = {
            "learner_id": event.learner_id,
            "account_id": event.account_id,
            "opened_at": event.opened_at,
        }

    return handlers


async def _flush(_: ServiceContext, session: AsyncSession) -> None:
    rows = session.info.pop(GATHERED, {})
    await upsert_many(session, latest, list(rows.values()))


def _record(event: AccountOpened) -> KafkaRecord:
    envelope = CloudEvent(source="/prasmes/accounts", type=event.event_type(), data=event.model_dump(mode="json"))
    return to_kafka(envelope, event.learner_id)  # keyed by learner: one partition keeps a learner's order


async def test_batches_apply_every_record_once_in_order_and_dead_letter_the_bad_ones(
    bus: Bus, consumed: tuple[str, Database], unique: str
) -> None:
    topic, database = consumed
    async with database.engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    opened = datetime(2025, 9, 1, tzinfo=UTC)
    events = [
        AccountOpened(account_id=uuid.uuid4(), learner_id=f"learner-{n % 7}", opened_at=opened) for n in range(60)
    ]
    records = [_record(e) for e in events[:30]]
    records.append(
        KafkaRecord(
            key=b"x",
            value=b"{not json",
            headers=[(h, b"1") for h in ("ce_id", "ce_source", "ce_type", "ce_specversion")],
        )
    )
    records.append(_record(AccountOpened(account_id=uuid.uuid4(), learner_id=BROKEN, opened_at=opened)))
    records += [_record(e) for e in events[30:]]
    producer = bus.producer()
    await producer.start()
    await producer.send_many([(topic, r) for r in records])
    await producer.stop()

    spec = ConsumerSpec(f"projection.{unique}", _handlers(), [topic], batched=Batched(_flush, max_records=4))
    consumer = EventConsumer(spec, bus, database, bus.producer(), max_attempts=2, retry_backoff=0.01)
    async with supervised(consumer.run()) as tasks:
        await caught_up(bus, spec.name, [topic], tasks=tasks)
    async with database.session() as session:
        found = {row.learner_id: row.account_id for row in await session.execute(sa.select(latest))}
    last = {e.learner_id: e.account_id for e in events}  # the last event of each learner
    assert found == last
    letters = await dlq.list_dead_letters(bus, topic)
    errors = sorted(letter.error or "" for letter in letters)
    assert len(errors) == 2, errors
    assert "PoisonRecord" in errors[0]
    assert "bug: cannot project learner-broken" in errors[1]
