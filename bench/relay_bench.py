"""The outbox relay on PostgreSQL against a raw aiokafka producer, both publishing to one broker."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Sequence
from typing import Any

from accounts.app import DEFINITION as ACCOUNTS
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from prasmes_contracts import CloudEvent, KafkaRecord, to_kafka
from prasmes_contracts.accounts import AccountOpened
from prasmes_runtime import migrations
from prasmes_runtime.bus.kafka import KafkaBus
from prasmes_runtime.db import Database
from prasmes_runtime.outbox import OutboxRelay, record_event
from prasmes_testing.servers import create_database

from bench.stats import rounded

RELAY_TOPIC = "accounts.accounts"
SOURCE = "/prasmes/accounts"
BATCH = 500
OPENED_AT = "2026-11-30T09:00:00Z"
# The relay's producer (prasmes_runtime.bus.kafka.KafkaProducer) uses the same settings.
PRODUCER_SETTINGS: dict[str, Any] = {
    "enable_idempotence": True,
    "acks": "all",
    "linger_ms": 2,
    "request_timeout_ms": 10_000,
}


def relay_vs_raw(bootstrap: str, server_url: str, events: int, suffix: str) -> dict[str, Any]:
    url = create_database(server_url, f"bench_relay_{suffix}")
    migrations.upgrade(ACCOUNTS.migrations_dir, url)
    return asyncio.run(_compare(bootstrap, url, events, suffix))


def _event(i: int, suffix: str) -> AccountOpened:
    return AccountOpened(account_id=uuid.UUID(int=i), learner_id=f"bench-{suffix}-{i}", opened_at=OPENED_AT)


def _raw_records(events: int, suffix: str) -> list[KafkaRecord]:
    """What the relay publishes for the same events: envelope as record_event builds it, then to_kafka."""
    records = []
    for i in range(events):
        event = _event(i, suffix)
        envelope = CloudEvent(
            source=SOURCE, type=event.event_type(), subject=str(event.account_id), data=event.model_dump(mode="json")
        )
        records.append(to_kafka(envelope, event.partition_key()))
    return records


async def _emit(database: Database, events: int, suffix: str) -> None:
    for start in range(0, events, 1000):
        async with database.transaction() as session:
            for i in range(start, min(start + 1000, events)):
                event = _event(i, suffix)
                await record_event(session, event)


async def _compare(bootstrap: str, url: str, events: int, suffix: str) -> dict[str, Any]:
    raw_topic = f"bench.raw.{suffix}"
    bus = KafkaBus(bootstrap)
    await bus.ensure_topics([RELAY_TOPIC, raw_topic, f"bench.warmup.{suffix}"])
    database = Database(url)
    try:
        await _emit(database, events, suffix)
        records = _raw_records(events, suffix)
        await _raw(bootstrap, f"bench.warmup.{suffix}", records[: min(len(records), 2000)])  # broker warm-up
        relay = await _timed(_relay(database, bus), bootstrap, RELAY_TOPIC)
        raw = await _timed(_raw(bootstrap, raw_topic, records), bootstrap, raw_topic)
    finally:
        await database.dispose()
    ratio = relay["events_per_s"] / raw["events_per_s"] if raw["events_per_s"] else None
    sizes = [len(r.value) + len(r.key or b"") + sum(len(k) + len(v) for k, v in r.headers) for r in records]
    return {
        "events": events,
        "batch_size": BATCH,
        "database": "postgresql",
        "producer": PRODUCER_SETTINGS,
        "mean_record_bytes": round(sum(sizes) / len(sizes), 1),
        "relay": relay,
        "raw_producer": raw,
        "ratio": None if ratio is None else round(ratio, 3),
    }


async def _timed(work: Awaitable[tuple[int, float]], bootstrap: str, topic: str) -> dict[str, Any]:
    """Run one publisher (which times its own publishing, producer start excluded) and check the topic."""
    before = await _end_offset_total(bootstrap, topic)
    cpu = time.process_time()
    published, elapsed = await work
    cpu = time.process_time() - cpu  # this process only; the broker and PostgreSQL are not counted
    landed = await _end_offset_total(bootstrap, topic) - before
    return {
        "published": published,
        "landed_on_topic": landed,
        "topic": topic,
        "elapsed_s": rounded(elapsed, 3),
        "events_per_s": rounded(published / elapsed, 1),
        "publisher_cpu_us_per_event": rounded(1e6 * cpu / published if published else 0.0, 1),
    }


async def _relay(database: Database, bus: KafkaBus) -> tuple[int, float]:
    producer = bus.producer()
    await producer.start()
    relay = OutboxRelay(database, producer, batch_size=BATCH)
    published = 0
    try:
        started = time.perf_counter()
        for _ in range(10_000):  # bounded: far more batches than the outbox holds
            count = await relay.publish_pending()
            if count == 0:
                break
            published += count
        return published, time.perf_counter() - started
    finally:
        await producer.stop()


async def _raw(bootstrap: str, topic: str, records: Sequence[KafkaRecord]) -> tuple[int, float]:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, client_id="bench-raw", **PRODUCER_SETTINGS)
    await producer.start()
    try:
        started = time.perf_counter()
        for start in range(0, len(records), BATCH):
            acks = [
                await producer.send(topic, r.value, key=r.key, headers=r.headers)
                for r in records[start : start + BATCH]
            ]
            await asyncio.gather(*acks)
        return len(records), time.perf_counter() - started
    finally:
        await producer.stop()


async def _end_offset_total(bootstrap: str, topic: str) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        cluster = await consumer._client.fetch_all_metadata()  # fresh: the topics were just created
        partitions = cluster.partitions_for_topic(topic) or set()
        ends = await consumer.end_offsets([TopicPartition(topic, p) for p in partitions])
        return sum(ends.values())
    finally:
        await consumer.stop()
