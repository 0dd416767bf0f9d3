"""A group positioned at the end of the suite's broker's topics starts after what is on them."""

from __future__ import annotations

import asyncio

import pytest
from aiokafka.errors import KafkaError
from prasmes_contracts.envelope import KafkaRecord
from prasmes_runtime.bus.kafka import KafkaBus
from prasmes_testing.waiting import group_lag, start_at_the_end


async def _lag(bus: KafkaBus, group: str, topic: str) -> int:
    """What the group has not committed; a fresh broker makes its offsets topic at the first ask, so ask again."""
    for _ in range(100):
        try:
            return sum((await group_lag(bus, group, [topic])).values())
        except KafkaError:
            await asyncio.sleep(0.3)
    raise AssertionError(f"no group coordinator for {group}")


@pytest.mark.kafka
async def test_a_group_started_at_the_end_has_nothing_to_read_but_what_comes_after(
    kafka_bus: KafkaBus, unique: str
) -> None:
    topic, group = f"waiting.{unique}", f"group.{unique}"
    await kafka_bus.ensure_topics([topic])
    producer = kafka_bus.producer()
    await producer.start()
    try:
        await producer.send_many([(topic, KafkaRecord(b"k", b"earlier")) for _ in range(7)])
        assert await _lag(kafka_bus, group, topic) == 7  # a new group reads all of it
        await start_at_the_end(kafka_bus.bootstrap, group, [topic, f"missing.{unique}"])
        assert await _lag(kafka_bus, group, topic) == 0
        await producer.send_many([(topic, KafkaRecord(b"k", b"later"))])
        assert await _lag(kafka_bus, group, topic) == 1
    finally:
        await producer.stop()
