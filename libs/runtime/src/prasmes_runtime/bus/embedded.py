"""The embedded durable event log: a SQLite file shared by the processes of one machine.

One partition per topic (total order), per-group committed offsets. For `make run` and tests;
production runs on Kafka. Two processes of the same group would both consume: run one per group.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import TypeVar

from prasmes_contracts import KafkaRecord

from prasmes_runtime.bus.port import Delivered

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    topic TEXT NOT NULL, "offset" INTEGER NOT NULL, key BLOB, value BLOB NOT NULL,
    headers TEXT NOT NULL, appended_at REAL NOT NULL, PRIMARY KEY (topic, "offset"));
CREATE TABLE IF NOT EXISTS group_offsets (
    group_id TEXT NOT NULL, topic TEXT NOT NULL, next_offset INTEGER NOT NULL,
    PRIMARY KEY (group_id, topic));
"""


class EventLog:
    """Synchronous access to the log file; the async classes run it in a worker thread."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        _use_wal(self._conn)
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(_SCHEMA)
        self._data_version: int | None = None

    def append(self, items: Sequence[tuple[str, KafkaRecord]]) -> None:
        with self._write():
            for topic, record in items:
                (next_offset,) = self._conn.execute(
                    'SELECT COALESCE(MAX("offset") + 1, 0) FROM records WHERE topic = ?', (topic,)
                ).fetchone()
                self._conn.execute(
                    "INSERT INTO records VALUES (?, ?, ?, ?, ?, ?)",
                    (topic, next_offset, record.key, record.value, _encode_headers(record), time.time()),
                )

    def read(self, topic: str, from_offset: int, limit: int) -> list[Delivered]:
        rows = self._conn.execute(
            'SELECT "offset", key, value, headers FROM records WHERE topic = ? AND "offset" >= ? '
            'ORDER BY "offset" LIMIT ?',
            (topic, from_offset, limit),
        ).fetchall()
        return [_delivered(topic, *row) for row in rows]

    def changed(self) -> bool:
        """Whether another connection has committed to the log since this one last asked (SQLite's `data_version`;
        the first time: True). One pragma, no table read: an idle reader's whole look."""
        version = int(self._conn.execute("PRAGMA data_version").fetchone()[0])
        changed, self._data_version = version != self._data_version, version
        return changed

    def end_offset(self, topic: str) -> int:
        (end,) = self._conn.execute(
            'SELECT COALESCE(MAX("offset") + 1, 0) FROM records WHERE topic = ?', (topic,)
        ).fetchone()
        return int(end)

    def committed(self, group: str, topic: str) -> int:
        row = self._conn.execute(
            "SELECT next_offset FROM group_offsets WHERE group_id = ? AND topic = ?", (group, topic)
        ).fetchone()
        return int(row[0]) if row else 0

    def commit(self, group: str, offsets: dict[str, int]) -> None:
        with self._write():
            for topic, next_offset in offsets.items():
                self._conn.execute(
                    "INSERT INTO group_offsets VALUES (?, ?, ?) ON CONFLICT (group_id, topic) "
                    "DO UPDATE SET next_offset = MAX(next_offset, excluded.next_offset)",
                    (group, topic, next_offset),
                )

    def rewind(self, group: str, topic: str) -> None:
        with self._write():
            self._conn.execute("DELETE FROM group_offsets WHERE group_id = ? AND topic = ?", (group, topic))

    def close(self) -> None:
        self._conn.close()

    def _write(self) -> _Immediate:
        return _Immediate(self._conn)


def _use_wal(conn: sqlite3.Connection, attempts: int = 100) -> None:
    # Switching the journal mode ignores the busy timeout: when another process is creating the
    # file at the same moment it fails at once with "database is locked", so wait and try again.
    for attempt in range(attempts):
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.05)


class _Immediate:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def __enter__(self) -> None:
        self._conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *_: object) -> None:
        self._conn.execute("ROLLBACK" if exc_type else "COMMIT")


def _encode_headers(record: KafkaRecord) -> str:
    return json.dumps([[k, v.decode()] for k, v in record.headers])


def _delivered(topic: str, offset: int, key: bytes | None, value: bytes, headers: str) -> Delivered:
    record = KafkaRecord(key=key, value=value, headers=[(k, v.encode()) for k, v in json.loads(headers)])
    return Delivered(topic=topic, partition=0, offset=offset, record=record)


class _Runner:
    """Serialises calls to one sqlite3 connection onto a worker thread."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._log: EventLog | None = None
        self._lock = asyncio.Lock()

    async def call(self, fn: Callable[[EventLog], T]) -> T:
        async with self._lock:
            if self._log is None:
                self._log = await asyncio.to_thread(EventLog, self._path)
            work = asyncio.ensure_future(asyncio.to_thread(fn, self._log))
            try:
                return await asyncio.shield(work)
            except asyncio.CancelledError:
                # The thread cannot be stopped: keep the lock until it is done with the connection,
                # or close() would pull the connection from under it.
                await asyncio.wait([work])
                raise

    async def close(self) -> None:
        async with self._lock:
            if self._log is not None:
                await asyncio.to_thread(self._log.close)
                self._log = None


class EmbeddedProducer:
    def __init__(self, path: Path) -> None:
        self._runner = _Runner(path)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        await self._runner.close()

    async def send_many(self, items: Sequence[tuple[str, KafkaRecord]]) -> None:
        batch = list(items)
        await self._runner.call(lambda log: log.append(batch))


class EmbeddedSubscription:
    def __init__(
        self, path: Path, group: str, topics: Sequence[str], poll_interval: float = 0.01, max_delay: float = 0.1
    ) -> None:
        self._runner = _Runner(path)
        self._group = group
        self._topics = list(topics)
        self._positions: dict[str, int] = {}
        self._poll_interval = poll_interval
        self._delay = poll_interval
        self._max_delay = max_delay
        self._more = True
        """The last read may have left records (it was full, or nothing was read yet)."""

    async def start(self) -> None:
        for topic in self._topics:
            self._positions[topic] = await self._runner.call(
                partial(EventLog.committed, group=self._group, topic=topic)
            )

    async def stop(self) -> None:
        await self._runner.close()

    async def poll(self, timeout: float, max_records: int) -> list[Delivered]:
        # The file gives no signal when another process appends, so it is polled: often while records
        # flow, backing off to every 100 ms when idle (an idle stack should not burn a core).
        deadline = time.monotonic() + timeout
        while True:
            batch = await self._read(max_records)
            if batch:
                self._delay = self._poll_interval
                return batch
            if time.monotonic() >= deadline:
                return batch
            await asyncio.sleep(self._delay)
            self._delay = min(self._delay * 2, self._max_delay)

    async def _read(self, max_records: int) -> list[Delivered]:
        # Only another connection appends (a producer has its own): no commit of theirs since the last look, and
        # that look read all there was, means nothing new; a worker idling on many topics asks once, not per topic.
        if not await self._runner.call(EventLog.changed) and not self._more:
            return []
        batch: list[Delivered] = []
        for topic in self._topics:
            start, limit = self._positions[topic], max_records - len(batch)
            records = await self._runner.call(partial(EventLog.read, topic=topic, from_offset=start, limit=limit))
            if records:
                self._positions[topic] = records[-1].offset + 1
            batch += records
            if len(batch) >= max_records:
                break
        self._more = len(batch) >= max_records
        return batch

    async def commit(self, delivered: Sequence[Delivered]) -> None:
        offsets: dict[str, int] = {}
        for item in delivered:
            offsets[item.topic] = max(offsets.get(item.topic, 0), item.offset + 1)
        if offsets:
            await self._runner.call(lambda log: log.commit(self._group, offsets))

    async def lag(self) -> dict[tuple[str, int], int]:
        result: dict[tuple[str, int], int] = {}
        for topic in self._topics:
            end = await self._runner.call(partial(EventLog.end_offset, topic=topic))
            committed = await self._runner.call(partial(EventLog.committed, group=self._group, topic=topic))
            result[(topic, 0)] = end - committed
        return result


class EmbeddedBus:
    name = "embedded"

    def __init__(self, path: Path) -> None:
        self.path = path

    def producer(self) -> EmbeddedProducer:
        return EmbeddedProducer(self.path)

    def subscription(self, group: str, topics: Sequence[str]) -> EmbeddedSubscription:
        return EmbeddedSubscription(self.path, group, topics)

    async def ensure_topics(self, topics: Sequence[str]) -> None:
        return None  # topics exist implicitly

    async def read_all(self, topic: str) -> list[Delivered]:
        runner = _Runner(self.path)
        try:
            return await runner.call(lambda log: log.read(topic, 0, 2**62))
        finally:
            await runner.close()

    async def rewind(self, group: str, topic: str) -> None:
        runner = _Runner(self.path)
        try:
            await runner.call(partial(EventLog.rewind, group=group, topic=topic))
        finally:
            await runner.close()

    async def positions(self, group: str, topics: Sequence[str]) -> dict[tuple[str, int], tuple[int, int]]:
        runner = _Runner(self.path)
        try:
            return {
                (topic, 0): (
                    await runner.call(partial(EventLog.committed, group=group, topic=topic)),
                    await runner.call(partial(EventLog.end_offset, topic=topic)),
                )
                for topic in topics
            }
        finally:
            await runner.close()

    async def ping(self) -> None:
        runner = _Runner(self.path)
        try:
            await runner.call(lambda log: log.end_offset(""))
        finally:
            await runner.close()
