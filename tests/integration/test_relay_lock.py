"""Two replicas of a service on one PostgreSQL database: the advisory lock keeps one outbox relay
publishing at a time, so that each event leaves once. The relays run as two OS processes."""

import asyncio
import itertools
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa
from prasmes_contracts import from_kafka
from prasmes_runtime import migrations
from prasmes_runtime.bus.kafka import KafkaBus
from prasmes_runtime.db import Database
from prasmes_runtime.messaging import outbox
from prasmes_testing.waiting import until

from tests.integration.eventing_support import all_published, emit

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]
CHUNKS, PER_CHUNK = 20, 100
RELAY = Path(__file__).with_name("relay_process.py")
Relay = tuple[subprocess.Popen[bytes], Path]
"""A relay process and the file it reports its batches in."""


@pytest.fixture
def topic(unique: str, monkeypatch: pytest.MonkeyPatch) -> str:
    name = f"accounts.accounts.lock.{unique}"
    monkeypatch.setattr("prasmes_runtime.outbox.topic_for", lambda _: SimpleNamespace(name=name))
    return name


@pytest.fixture
def relays(postgres_url: str, kafka_bootstrap: str, tmp_path: Path) -> Iterator[list[Relay]]:
    started = []
    for n in range(2):
        report = tmp_path / f"relay-{n}.jsonl"
        log = (tmp_path / f"relay-{n}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, str(RELAY), postgres_url, kafka_bootstrap, str(report)], stdout=log, stderr=log
        )
        started.append((process, report))
    try:
        yield started
    finally:
        for process, _ in started:
            if process.poll() is None:
                process.kill()
                process.wait()


def _lines(report: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in report.read_text().splitlines()] if report.exists() else []


async def test_two_relay_processes_on_one_database_publish_one_at_a_time_and_each_event_once(
    postgres_url: str,
    kafka_bootstrap: str,
    topic: str,
    relays: list[Relay],
) -> None:
    await asyncio.to_thread(migrations.upgrade, None, postgres_url)  # the outbox is all a relay needs
    await KafkaBus(kafka_bootstrap).ensure_topics([topic])
    database = Database(postgres_url)

    async def both_ready() -> bool:
        for process, report in relays:
            assert process.poll() is None, f"a relay process exited with {process.returncode}"
            if not any("ready" in line for line in _lines(report)):
                return False
        return True

    try:
        await until(both_ready, timeout=60, what="both relay processes running")
        for chunk in range(CHUNKS):  # written while both relays run, as a service's requests would
            await emit(database, PER_CHUNK, prefix=f"lock-{chunk}")
            await asyncio.sleep(0.02)
        await until(lambda: all_published(database), timeout=120, what="the outbox published")
        async with database.session() as session:
            emitted = set((await session.execute(sa.select(outbox.c.event_id))).scalars())
    finally:
        await database.dispose()
    for process, _ in relays:
        assert process.poll() is None, "both relays ran until the end"
        process.terminate()
    for process, _ in relays:
        assert process.wait(timeout=30) == 0, "a relay did not stop cleanly"

    batches = [
        (line["pid"], line["began"], line["ended"], line["ids"])
        for _, report in relays
        for line in _lines(report)
        if "ids" in line
    ]
    per_process = {p.pid: sum(len(ids) for pid, _, _, ids in batches if pid == p.pid) for p, _ in relays}
    ordered = sorted(batches, key=lambda b: b[1])
    for (pid_a, _, ended_a, _), (pid_b, began_b, _, _) in itertools.pairwise(ordered):
        assert pid_a == pid_b or ended_a <= began_b, f"two relays published at once ({per_process})"
    published = [event_id for *_, ids in batches for event_id in ids]
    assert len(published) == len(emitted) == CHUNKS * PER_CHUNK, per_process
    assert set(published) == emitted, "each event published once, by one relay or the other"
    assert all(per_process.values()), f"both relays took turns: the lock was contended ({per_process})"
    on_topic = [from_kafka(d.record).id for d in await KafkaBus(kafka_bootstrap).read_all(topic)]
    assert sorted(on_topic) == sorted(emitted), "each event is on the topic exactly once"
