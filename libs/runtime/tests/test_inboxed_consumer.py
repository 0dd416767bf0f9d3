"""An inboxed consumer (the default: each event with its inbox row) applies the records of a poll in transactions of
`INBOXED_CHUNK`: every event takes effect once and in order, a second delivery of an event (in the same chunk or a
later one) changes nothing, and a chunk holding a record its handler cannot apply, or one that is no CloudEvent, is
handled record by record, so that only the bad records go to the dead letters."""

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from prasmes_contracts import CloudEvent, KafkaRecord, to_kafka
from prasmes_contracts.accounts import AccountOpened
from prasmes_runtime import dlq
from prasmes_runtime.bus import Bus
from prasmes_runtime.consumer import INBOXED_CHUNK, ConsumerSpec, EventConsumer, Handlers
from prasmes_runtime.context import EventContext
from prasmes_runtime.db import Database
from prasmes_runtime.messaging import messaging_metadata
from prasmes_testing.waiting import caught_up, supervised

metadata = sa.MetaData()
applied = sa.Table(
    "applied",
    metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("learner_id", sa.String(40), nullable=False),
    sa.Column("account_id", sa.Uuid(), nullable=False),
)
"""One row per application of an event, in the order applied: a second application would show as a second row."""
BROKEN = "learner-broken"
OPENED = datetime(2025, 9, 1, tzinfo=UTC)


def _handlers() -> Handlers:
    handlers = Handlers()

    @handlers.on(AccountOpened)
    async def note(ctx: EventContext, event: AccountOpened) -> None:
        await ctx.session.execute(applied.insert(), {"learner_id": event.learner_id, "account_id": event.account_id})
        if event.learner_id == BROKEN:  # after its write: the chunk's rollback must take that back too
            raise RuntimeError("bug: cannot handle learner-broken")

    return handlers


def _envelope(event: AccountOpened) -> CloudEvent:
    return CloudEvent(source="/prasmes/accounts", type=event.event_type(), data=event.model_dump(mode="json"))


def _opened(n: int, learner: str | None = None) -> AccountOpened:
    return AccountOpened(account_id=uuid.uuid4(), learner_id=learner or f"learner-{n}", opened_at=OPENED)


async def test_chunks_apply_every_event_once_in_order_and_dead_letter_only_the_bad_records(
    bus: Bus, consumed: tuple[str, Database], unique: str
) -> None:
    topic, database = consumed
    async with database.engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
        await connection.run_sync(messaging_metadata.create_all)
    events = [_opened(n) for n in range(2 * INBOXED_CHUNK + 10)]
    envelopes = [_envelope(e) for e in events]
    records = [to_kafka(envelope, "one-key") for envelope in envelopes]  # one partition: one order
    again = to_kafka(envelopes[3], "one-key")  # the same event delivered twice within a chunk
    poison = KafkaRecord(
        key=b"one-key",
        value=b"{not json",
        headers=[(h, b"1") for h in ("ce_id", "ce_source", "ce_type", "ce_specversion")],
    )
    broken = to_kafka(_envelope(_opened(0, BROKEN)), "one-key")
    sent = [*records[:10], again, broken, *records[10:60], poison, *records[60:], to_kafka(envelopes[-1], "one-key")]
    producer = bus.producer()
    await producer.start()
    await producer.send_many([(topic, r) for r in sent])
    await producer.stop()

    spec = ConsumerSpec(f"inboxed.{unique}", _handlers(), [topic])
    consumer = EventConsumer(spec, bus, database, bus.producer(), max_attempts=2, retry_backoff=0.01)
    async with supervised(consumer.run()) as tasks:
        await caught_up(bus, spec.name, [topic], tasks=tasks)
    async with database.session() as session:
        rows = (await session.execute(sa.select(applied).order_by(applied.c.seq))).all()
    assert [row.account_id for row in rows] == [e.account_id for e in events]
    letters = await dlq.list_dead_letters(bus, topic)
    errors = sorted(letter.error or "" for letter in letters)
    assert len(errors) == 2, errors
    assert "PoisonRecord" in errors[0] and "bug: cannot handle learner-broken" in errors[1]
