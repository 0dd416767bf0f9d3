"""The embedded event log's reader: an idle subscription asks the file one question per look, however many topics it
follows, and still sees every record another connection appends."""

from pathlib import Path
from typing import Any

import pytest
from prasmes_contracts import KafkaRecord
from prasmes_runtime.bus.embedded import EmbeddedBus, EventLog

TOPICS = [f"idle.t{n}" for n in range(12)]


def _record(n: int) -> KafkaRecord:
    return KafkaRecord(key=b"k", value=str(n).encode(), headers=[("ce_id", f"r-{n}".encode())])


async def _append(bus: EmbeddedBus, topic: str, count: int) -> None:
    producer = bus.producer()
    try:
        await producer.send_many([(topic, _record(n)) for n in range(count)])
    finally:
        await producer.stop()


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The topics `EventLog.read` was asked for."""
    asked: list[str] = []
    read = EventLog.read

    def counted(self: EventLog, topic: str, from_offset: int, limit: int) -> Any:
        asked.append(topic)
        return read(self, topic, from_offset, limit)

    monkeypatch.setattr(EventLog, "read", counted)
    return asked


async def test_an_idle_subscription_reads_no_topic_until_another_connection_appends(
    tmp_path: Path, reads: list[str]
) -> None:
    bus = EmbeddedBus(tmp_path / "events.db")
    await _append(bus, TOPICS[0], 1)
    subscription = bus.subscription("g", TOPICS)
    await subscription.start()
    try:
        assert len(await subscription.poll(timeout=0, max_records=100)) == 1  # the first look reads every topic
        reads.clear()
        for _ in range(5):
            assert await subscription.poll(timeout=0, max_records=100) == []
        assert reads == [], "nothing committed since: no topic read"

        await _append(bus, TOPICS[7], 2)
        got = await subscription.poll(timeout=0, max_records=100)
    finally:
        await subscription.stop()
    assert [(d.topic, d.offset) for d in got] == [(TOPICS[7], 0), (TOPICS[7], 1)]


async def test_a_full_batch_leaves_the_rest_for_the_next_look_without_a_new_append(tmp_path: Path) -> None:
    bus = EmbeddedBus(tmp_path / "events.db")
    await _append(bus, TOPICS[0], 25)
    subscription = bus.subscription("g", TOPICS[:1])
    await subscription.start()
    try:
        sizes = [len(await subscription.poll(timeout=0, max_records=10)) for _ in range(4)]
    finally:
        await subscription.stop()
    assert sizes == [10, 10, 5, 0]
