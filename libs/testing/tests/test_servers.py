"""The local test servers really start, serve, stop and (Kafka) restart with their data."""

from __future__ import annotations

import asyncio
import importlib
import os
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from prasmes_testing.servers import (
    LocalKafkaBroker,
    LocalPostgres,
    create_database,
    free_port,
    repo_root,
)

TOPIC = "servers-selftest"


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _running(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def _produce(bootstrap: str, value: bytes) -> None:
    aiokafka: Any = importlib.import_module("aiokafka")
    producer = aiokafka.AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(TOPIC, value, key=b"k")
    finally:
        await producer.stop()


async def _consume_all(bootstrap: str) -> list[bytes]:
    aiokafka: Any = importlib.import_module("aiokafka")
    consumer = aiokafka.AIOKafkaConsumer(
        TOPIC,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        batches = await consumer.getmany(timeout_ms=10_000, max_records=100)
        return [record.value for records in batches.values() for record in records]
    finally:
        await consumer.stop()


@pytest.fixture
def broker() -> Iterator[LocalKafkaBroker]:
    server = LocalKafkaBroker()
    try:
        yield server
    finally:
        server.close()


def test_repo_root_and_free_port() -> None:
    assert (repo_root() / "deploy" / "kafka" / "pom.xml").is_file()
    assert 0 < free_port() < 65536


@pytest.mark.kafka
def test_kafka_broker_keeps_messages_across_restart(broker: LocalKafkaBroker) -> None:
    bootstrap = broker.start()
    assert bootstrap == broker.bootstrap == f"127.0.0.1:{broker.port}"
    first_watchdog = broker.watchdog_pid
    assert _running(first_watchdog)
    asyncio.run(_produce(bootstrap, b"hello"))
    assert asyncio.run(_consume_all(bootstrap)) == [b"hello"]

    broker.stop()
    assert not broker.running
    assert not _port_open(broker.port)
    assert broker.watchdog_pid is None and not _running(first_watchdog)  # no stray watchdog

    assert broker.start() == bootstrap
    second_watchdog = broker.watchdog_pid
    assert _running(second_watchdog) and second_watchdog != first_watchdog
    assert asyncio.run(_consume_all(bootstrap)) == [b"hello"]
    data_dir = broker.data_dir
    broker.close()
    assert not data_dir.exists()
    assert not _running(second_watchdog)


@pytest.mark.postgres
def test_local_postgres_create_database_and_query() -> None:
    asyncpg: Any = importlib.import_module("asyncpg")
    server = LocalPostgres()
    try:
        url = server.start()
        assert url == f"postgresql+asyncpg://postgres@127.0.0.1:{server.port}/postgres"
        watchdog = server.watchdog_pid
        assert _running(watchdog)
        db_url = create_database(url, "servers_selftest")
        assert db_url.endswith("/servers_selftest")
        assert create_database(url, "servers_selftest") == db_url  # idempotent

        async def select_one() -> int:
            dsn = db_url.replace("postgresql+asyncpg://", "postgresql://")
            conn = await asyncpg.connect(dsn)
            try:
                return int(await conn.fetchval("select 1"))
            finally:
                await conn.close()

        assert asyncio.run(select_one()) == 1
    finally:
        data_dir = server.data_dir
        server.stop()
    assert data_dir is not None and not data_dir.exists()  # out of the way at once
    doomed = data_dir.with_name(f"{data_dir.name}.removing")
    deadline = time.monotonic() + 30
    while doomed.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not doomed.exists(), "its files deleted by the rm it started"
    assert not _port_open(server.port)
    assert server.watchdog_pid is None and not _running(watchdog)  # no stray watchdog


def test_create_database_rejects_bad_names() -> None:
    with pytest.raises(ValueError):
        create_database("postgresql+asyncpg://postgres@127.0.0.1:1/postgres", 'x"; drop')
