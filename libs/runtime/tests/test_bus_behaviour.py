"""One behaviour suite for the bus port, run against Kafka and the embedded log alike."""

import asyncio
from collections import defaultdict

from prasmes_contracts import KafkaRecord
from prasmes_runtime.bus import Bus, Delivered, Subscription


def _record(key: str, n: int) -> KafkaRecord:
    return KafkaRecord(key=key.encode(), value=str(n).encode(), headers=[("ce_id", f"{key}-{n}".encode())])


async def _publish(bus: Bus, topic: str, records: list[KafkaRecord]) -> None:
    producer = bus.producer()
    await producer.start()
    try:
        await producer.send_many([(topic, r) for r in records])
    finally:
        await producer.stop()


async def _drain(subscription: Subscription, expected: int, rounds: int = 60) -> list[Delivered]:
    got: list[Delivered] = []
    for _ in range(rounds):
        got += await subscription.poll(timeout=0.5, max_records=500)
        if len(got) >= expected:
            break
    return got


async def _subscribe(bus: Bus, group: str, topic: str) -> Subscription:
    subscription = bus.subscription(group, [topic])
    await subscription.start()
    return subscription


async def test_records_of_one_key_arrive_in_the_order_sent(bus: Bus, unique: str) -> None:
    topic = f"order.{unique}"
    await bus.ensure_topics([topic])
    records = [_record(f"k{n % 5}", n) for n in range(200)]
    await _publish(bus, topic, records)
    subscription = await _subscribe(bus, f"g.{unique}", topic)
    try:
        got = await _drain(subscription, 200)
    finally:
        await subscription.stop()
    assert len(got) == 200
    by_key: dict[bytes, list[int]] = defaultdict(list)
    for d in got:
        assert d.record.key is not None
        by_key[d.record.key].append(int(d.record.value))
    assert all(values == sorted(values) for values in by_key.values())
    assert sorted(v for values in by_key.values() for v in values) == list(range(200))


async def test_headers_and_keys_travel_unchanged(bus: Bus, unique: str) -> None:
    topic = f"headers.{unique}"
    await bus.ensure_topics([topic])
    record = KafkaRecord(key=b"a", value=b'{"x":1}', headers=[("ce_id", b"1"), ("traceparent", b"00-ab-cd-01")])
    await _publish(bus, topic, [record])
    subscription = await _subscribe(bus, f"g.{unique}", topic)
    try:
        (got,) = await _drain(subscription, 1)
    finally:
        await subscription.stop()
    assert got.record == record


async def test_a_group_resumes_after_its_last_commit(bus: Bus, unique: str) -> None:
    topic, group = f"resume.{unique}", f"g.{unique}"
    await bus.ensure_topics([topic])
    await _publish(bus, topic, [_record("k", n) for n in range(10)])
    first = await _subscribe(bus, group, topic)
    got = await _drain(first, 10)
    await first.commit(got[:4])  # only the first four took effect
    await first.stop()
    second = await _subscribe(bus, group, topic)
    try:
        again = await _drain(second, 6)
    finally:
        await second.stop()
    assert [int(d.record.value) for d in again] == [4, 5, 6, 7, 8, 9]


async def test_groups_are_independent(bus: Bus, unique: str) -> None:
    topic = f"groups.{unique}"
    await bus.ensure_topics([topic])
    await _publish(bus, topic, [_record("k", n) for n in range(5)])
    for group in (f"a.{unique}", f"b.{unique}"):
        subscription = await _subscribe(bus, group, topic)
        try:
            got = await _drain(subscription, 5)
            await subscription.commit(got)
        finally:
            await subscription.stop()
        assert len(got) == 5


async def test_lag_counts_what_the_group_has_not_committed(bus: Bus, unique: str) -> None:
    topic, group = f"lag.{unique}", f"g.{unique}"
    await bus.ensure_topics([topic])
    await _publish(bus, topic, [_record("k", n) for n in range(7)])
    subscription = await _subscribe(bus, group, topic)
    try:
        got = await _drain(subscription, 7)
        await subscription.commit(got[:3])
        assert sum((await subscription.lag()).values()) == 4
        await subscription.commit(got)
        assert sum((await subscription.lag()).values()) == 0
    finally:
        await subscription.stop()


async def test_positions_are_the_groups_committed_and_the_end_offsets(bus: Bus, unique: str) -> None:
    topic, group = f"positions.{unique}", f"g.{unique}"
    await bus.ensure_topics([topic])
    await _publish(bus, topic, [_record("k", n) for n in range(5)])
    before = await bus.positions(group, [topic])
    assert sum(end for _, end in before.values()) == 5
    assert sum(committed for committed, _ in before.values()) == 0  # no commit yet
    subscription = await _subscribe(bus, group, topic)
    try:
        await subscription.commit((await _drain(subscription, 5))[:2])
    finally:
        await subscription.stop()
    after = await bus.positions(group, [topic])
    assert sum(committed for committed, _ in after.values()) == 2
    assert set(after) == set(before)


async def test_read_all_and_rewind(bus: Bus, unique: str) -> None:
    topic, group = f"replay.{unique}", f"g.{unique}"
    await bus.ensure_topics([topic])
    await _publish(bus, topic, [_record("k", n) for n in range(6)])
    assert [int(d.record.value) for d in await bus.read_all(topic)] == list(range(6))
    subscription = await _subscribe(bus, group, topic)
    await subscription.commit(await _drain(subscription, 6))
    await subscription.stop()
    await bus.rewind(group, topic)
    again = await _subscribe(bus, group, topic)
    try:
        assert len(await _drain(again, 6)) == 6
    finally:
        await again.stop()


async def test_concurrent_producers_lose_nothing(bus: Bus, unique: str) -> None:
    topic = f"concurrent.{unique}"
    await bus.ensure_topics([topic])
    await asyncio.gather(*(_publish(bus, topic, [_record(f"p{p}", n) for n in range(50)]) for p in range(4)))
    assert len(await bus.read_all(topic)) == 200


async def test_kafka_topics_keep_their_records_for_good(kafka_bootstrap: str, unique: str) -> None:
    from aiokafka.admin import AIOKafkaAdminClient
    from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
    from prasmes_runtime.bus.kafka import KafkaBus

    topic = f"retained.{unique}"
    await KafkaBus(kafka_bootstrap).ensure_topics([topic])
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        (described,) = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
    finally:
        await admin.close()
    configs = {entry[0]: entry[1] for entry in described.resources[0][4]}
    assert configs["retention.ms"] == "-1"
