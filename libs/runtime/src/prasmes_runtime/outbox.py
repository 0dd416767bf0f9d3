"""The transactional outbox and its relay.

`record_event` writes the event row in the caller's transaction, beside the state change. The relay
publishes undispatched rows in id order (so in order per key), marks them, retries with backoff, and
resumes from the table after a crash or a broker outage. One relay is active per database at a time: on
PostgreSQL an advisory lock (a service may run several replicas), on SQLite a file lock beside the database.

The relay works in turns. A turn takes the lock and then runs a pipeline of batches: while batch k awaits its
acknowledgements, the relay marks batch k-1 (acknowledged a moment ago) and reads and encodes batch k+1; batch k+1
is sent only once batch k is acknowledged. So:

- order: batches leave strictly one after another and a batch's records are queued in id order, so nothing of a
  later batch is on the bus before everything of an earlier one was acknowledged (per key and overall);
- at least once: a row is marked only after its batch was acknowledged; a crash or a broker outage leaves the
  unacknowledged (and the acknowledged but not yet marked) rows unmarked, and the next turn sends them again;
- one relay: the lock is released only when nothing of the turn is in flight any more and its marks are committed,
  so another relay (which starts from the oldest unmarked row) never sends what this one still might.

Wake-up: a commit in the relay's own process sets `Database.outbox_signal`; on PostgreSQL every writer's transaction
NOTIFYs and the relay LISTENs (`Database.listen_for_outbox`), so commits of other processes (a service's `api`
processes) wake it too; on SQLite the relay of a `worker` probes the table every `probe_interval`. The poll
interval is the fallback for anything missed. A relay that found the lock taken is a standby: it wakes on nothing and
tries the lock again every `standby_interval`.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import sqlalchemy as sa
from opentelemetry import trace
from prasmes_contracts import CloudEvent, Event, KafkaRecord, binary_record, encode_data, topic_for
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from prasmes_runtime import metrics
from prasmes_runtime.bus import BusUnavailable, Producer
from prasmes_runtime.context import ServiceContext
from prasmes_runtime.db import OUTBOX_WRITTEN, READ_ONLY, Database
from prasmes_runtime.logging import get_logger
from prasmes_runtime.messaging import outbox
from prasmes_runtime.telemetry import current_trace_headers, tracer

_RELAY_LOCK_ID = 0x707261736D6573  # "prasmes": one relay per database at a time
log = get_logger(__name__)


_INSERT = outbox.insert()


async def record_event(session: AsyncSession, event: Event) -> CloudEvent:
    """Add an event to the outbox inside the current transaction. Its CloudEvents `source` and
    `subject` come from the event (its owning service, its aggregate), its topic from the registry."""
    (envelope,) = await record_events(session, [event])
    return envelope


async def record_events(session: AsyncSession, events: Sequence[Event]) -> list[CloudEvent]:
    """Add many events in one statement (bulk decisions); each keeps its own id, key and order."""
    trace_headers = current_trace_headers()
    envelopes = [
        CloudEvent(
            source=event.source(),
            type=event.event_type(),
            subject=event.subject(),
            data=event.model_dump(mode="json"),
            traceparent=trace_headers.get("traceparent"),
            tracestate=trace_headers.get("tracestate"),
        )
        for event in events
    ]
    if not envelopes:
        return []
    await session.execute(
        _INSERT,
        [
            {
                "event_id": envelope.id,
                "topic": topic_for(type(event)).name,
                "partition_key": event.partition_key(),
                "event_type": envelope.type,
                "source": envelope.source,
                "subject": envelope.subject,
                "data": encode_data(envelope.data),
                "traceparent": envelope.traceparent,
                "tracestate": envelope.tracestate,
                "occurred_at": envelope.time,
            }
            for event, envelope in zip(events, envelopes, strict=True)
        ],
    )
    session.info[OUTBOX_WRITTEN] = True
    return envelopes


_COLUMNS = (
    outbox.c.id,
    outbox.c.topic,
    outbox.c.partition_key,
    outbox.c.event_id,
    outbox.c.source,
    outbox.c.event_type,
    outbox.c.occurred_at,
    outbox.c.subject,
    outbox.c.data,
    outbox.c.traceparent,
    outbox.c.tracestate,
)
"""What a record is made of: every column but `dispatched_at`, in the order `_Batch.of` unpacks them."""
_ENCODE_SLICE = 50
_NO_SORT = sa.text("SET LOCAL enable_sort = off")
_MARK_GRACE = 5.0
"""Seconds a cancelled relay (the process stops) still gives a mark under way."""


@dataclass
class _Batch:
    """Rows read in id order and encoded as the records to send."""

    ids: list[int]
    items: list[tuple[str, KafkaRecord]]
    full: bool
    """As many rows as asked for: the outbox may hold more."""

    @classmethod
    async def of(cls, rows: Sequence[sa.Row[Any]], limit: int) -> _Batch:
        ids: list[int] = []
        items: list[tuple[str, KafkaRecord]] = []
        for n, (id_, topic, key, event_id, source, type_, time, subject, data, traceparent, tracestate) in enumerate(
            rows, 1
        ):
            if n % _ENCODE_SLICE == 0:
                # Encoding runs while the batch before awaits its acks: let the producer's own work (its requests,
                # the broker's answers) through every few records instead of holding the loop for all of them.
                await asyncio.sleep(0)
            ids.append(id_)
            record = binary_record(
                key=key,
                id=event_id,
                source=source,
                type=type_,
                time=time,
                subject=subject,
                data=data,
                traceparent=traceparent,
                tracestate=tracestate,
            )
            items.append((str(topic), record))
        return cls(ids, items, full=len(ids) >= limit)

    def marking(self, now: datetime) -> sa.Update:
        """The one UPDATE that marks this batch: a range when its ids are contiguous (as they are unless rows
        committed out of id order), else the list of ids."""
        first, last = self.ids[0], self.ids[-1]
        rows = outbox.c.id.between(first, last) if last - first + 1 == len(self.ids) else outbox.c.id.in_(self.ids)
        return outbox.update().where(rows, outbox.c.dispatched_at.is_(None)).values(dispatched_at=now)


@dataclass
class _Turn:
    published: int = 0
    """Rows sent, acknowledged and marked."""
    more: bool = False
    """The last batch was full: the outbox may hold more (do not wait for a wake-up)."""
    error: Exception | None = None
    """Why the turn ended early (the bus failed a batch); the rows from that batch on stay unmarked."""
    topics: Counter[str] = field(default_factory=Counter)
    leased: bool = True
    """False: another relay held the lock, and the turn did nothing."""


class _Lease(Protocol):
    """One relay per database: taken at the start of a turn, released at its end."""

    async def acquire(self, conn: AsyncConnection) -> bool: ...
    async def release(self, conn: AsyncConnection) -> None: ...


class _AdvisoryLease:
    """PostgreSQL: a session-level advisory lock, held by the turn's connection (which also reads the batches: if the
    connection is lost, so is the lock, and the turn fails at its next read instead of sending on)."""

    async def acquire(self, conn: AsyncConnection) -> bool:
        async with conn.begin():
            return bool(await conn.scalar(sa.select(sa.func.pg_try_advisory_lock(_RELAY_LOCK_ID))))

    async def release(self, conn: AsyncConnection) -> None:
        try:
            async with conn.begin():
                await conn.scalar(sa.select(sa.func.pg_advisory_unlock(_RELAY_LOCK_ID)))
        except Exception:
            # A lock left on a pooled connection would block every relay for as long as it lives: close it.
            await conn.invalidate()


class _FileLease:
    """SQLite: an exclusive lock on a file beside the database (SQLite is one machine; the lock goes with the
    process that holds it, however it ends)."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._fd: int | None = None

    async def acquire(self, conn: AsyncConnection) -> bool:
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    async def release(self, conn: AsyncConnection) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # and with it the lock


class _NoLease:
    """An in-memory SQLite database: nothing else can reach it."""

    async def acquire(self, conn: AsyncConnection) -> bool:
        return True

    async def release(self, conn: AsyncConnection) -> None:
        return None


def _lease_for(database: Database) -> _Lease:
    if database.is_postgres:
        return _AdvisoryLease()
    path = database.engine.url.database
    if not path or path == ":memory:" or path.startswith("file:"):
        return _NoLease()
    return _FileLease(f"{path}.relay-lock")


PROBE_BACKOFF_FACTOR = 8
"""On SQLite an idle relay probes at most this many times less often than `probe_interval`."""


class OutboxRelay:
    def __init__(
        self,
        database: Database,
        producer: Producer,
        *,
        batch_size: int = 500,
        poll_interval: float = 0.5,
        max_backoff: float = 5.0,
        linger: float = 0.005,
        batches_per_turn: int = 20,
        probe_interval: float | None = None,
        listen: bool = True,
        standby_interval: float = 0.5,
    ) -> None:
        """`batches_per_turn` bounds how long one turn holds the lock (other relays, and rows committed out of id
        order, wait for the next turn). `probe_interval`: on SQLite, also look at the table this often between two
        wake-ups, for writers in other processes (None: only this process's commits and the poll interval wake
        it). `listen`: on PostgreSQL, LISTEN for every writer's NOTIFY while `run` runs. `standby_interval`: how often
        a relay that found the lock taken tries again; it does not wake on commits, which the holder publishes (with
        N workers every commit would otherwise cost N lock attempts), so the lock moves within this interval of the
        holder's death."""
        self._db = database
        self._producer = producer
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._max_backoff = max_backoff
        self._linger = linger
        self._standby_interval = standby_interval
        self._batches_per_turn = max(1, batches_per_turn)
        self._probe_interval = None if database.is_postgres else probe_interval
        self._probe = self._probe_interval
        """The current step between two looks (SQLite): it grows while the looks find nothing, across the poll
        interval's turns, and is back at `probe_interval` once rows are published."""
        self._listen = listen and database.is_postgres
        self._lease = _lease_for(database)
        # Ordered as the pending index is, (dispatched_at, id): all NULL, so by id; an index scan from the cursor
        # that stops at the limit. Ordered by id alone, PostgreSQL would sort every pending row for each batch
        # whenever its statistics say that few are pending (as they do, but for a backlog): O(backlog) a batch.
        self._read_query = (
            sa.select(*_COLUMNS)
            .where(outbox.c.dispatched_at.is_(None))
            .order_by(outbox.c.dispatched_at, outbox.c.id)
            .limit(batch_size)
        )

    async def run(self) -> None:
        """Publish until cancelled."""
        listener = asyncio.create_task(self._db.listen_for_outbox(), name="outbox-listener") if self._listen else None
        backoff = 0.1
        try:
            while True:
                # Cleared before the turn reads: a commit during the turn leaves it set, and the next turn comes
                # at once instead of after the poll interval.
                self._db.outbox_signal.clear()
                try:
                    turn = await self._turn()
                except Exception:
                    log.exception("relay.failed", retry_in=backoff)
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, self._max_backoff)
                    continue
                if turn.error is not None:
                    if isinstance(turn.error, BusUnavailable):
                        log.warning("relay.bus_unavailable", error=str(turn.error), retry_in=backoff)
                    else:
                        log.error("relay.failed", error=repr(turn.error), retry_in=backoff)
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, self._max_backoff)
                    continue
                backoff = 0.1
                if turn.published:
                    self._probe = self._probe_interval
                if not turn.leased:
                    await asyncio.sleep(self._standby_interval)
                elif not turn.more:
                    await self._wait_for_work()
        finally:
            if listener is not None:
                listener.cancel()
                await asyncio.gather(listener, return_exceptions=True)

    async def _wait_for_work(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._poll_interval
        probe = self._probe
        ceiling = 0.0 if self._probe_interval is None else PROBE_BACKOFF_FACTOR * self._probe_interval
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                await self._update_lag()
                return
            step = remaining if probe is None else min(remaining, probe)
            try:
                # Not asyncio.wait_for: before Python 3.12 it loses a cancellation that arrives as the signal is set,
                # and a relay that missed its stop would keep the process (and its shutdown) waiting for ever.
                async with asyncio.timeout(step):
                    await self._db.outbox_signal.wait()
            except TimeoutError:
                if probe is not None:
                    if await self._has_pending():
                        return
                    # Each empty look waits twice as long (25, 50, 100, 200 ms): under load the next rows come
                    # within the first step; an idle worker does not query its table forty times a second.
                    probe = self._probe = min(probe * 2, ceiling)
                continue
            # Linger a moment so that commits arriving together leave in one batch, not one each.
            await asyncio.sleep(self._linger)
            return

    async def publish_pending(self) -> int:
        """One turn: publish the oldest undispatched rows batch by batch (at most `batches_per_turn` batches) and
        mark each batch once it is acknowledged. Returns how many rows were published and marked (0: nothing to do,
        or another relay holds the lock). A bus failure ends the turn: it is raised when nothing was published yet,
        else the rows published before it are counted and the next turn meets the failure again."""
        turn = await self._turn()
        if turn.error is not None and not turn.published:
            raise turn.error
        return turn.published

    async def _turn(self) -> _Turn:
        async with contextlib.AsyncExitStack() as connections:
            reader = await self._connection(connections, read_only=True)
            held = False
            try:
                held = await self._lease.acquire(reader)
                if not held:
                    return _Turn(leased=False)
                turn = await self._pipeline(reader, connections)
            finally:
                if held:
                    await self._lease.release(reader)
        for topic, count in turn.topics.items():
            metrics.events_published.labels(topic).inc(count)
        return turn

    async def _connection(self, connections: contextlib.AsyncExitStack, *, read_only: bool) -> AsyncConnection:
        conn = await connections.enter_async_context(self._db.engine.connect())
        if not self._db.is_postgres:
            await conn.execution_options(**{READ_ONLY: read_only})  # reads take a plain BEGIN: writers never wait
        elif not read_only:
            # One UPDATE marks a batch atomically: a transaction of its own, without BEGIN and COMMIT round trips.
            await conn.execution_options(isolation_level="AUTOCOMMIT")
        return conn

    async def _pipeline(self, reader: AsyncConnection, connections: contextlib.AsyncExitStack) -> _Turn:
        """Batch k is sent while k+1 is read and encoded (on `reader`, the lock's connection: a lost lock fails the
        read, so nothing is sent after it) and k-1 is marked (on a connection of its own, so that both statements run
        at once, and off the path: k+1 leaves as soon as k is acknowledged and k+1 is read). k+1 is sent only once k
        is acknowledged, and k is marked only then. Whatever ends the turn, nothing of it is in flight afterwards."""
        turn = _Turn()
        marker: AsyncConnection | None = None

        async def mark(batch: _Batch, previous: asyncio.Future[None] | None) -> None:
            nonlocal marker
            if previous is not None:
                await previous  # one statement at a time on the connection; a failed mark fails the ones after it
            if marker is None:
                marker = await self._connection(connections, read_only=False)
            await self._mark(marker, batch, turn)

        marking: asyncio.Future[None] | None = None  # the latest mark, chained after the ones before it
        try:
            batch = await self._read(reader, after=None)
            sent = 0
            while batch is not None:
                if marking is not None and marking.done():
                    marking.result()  # a mark failed (the database): end the turn
                sent += 1
                look = batch.full and sent < self._batches_per_turn
                # The read goes out first, so that the database works while this process queues the records.
                reading = asyncio.ensure_future(self._read(reader, after=batch.ids[-1])) if look else None
                sending = asyncio.ensure_future(self._publish(batch))
                steps = [step for step in (reading, sending) if step is not None]
                try:
                    await asyncio.wait(steps)
                except asyncio.CancelledError:
                    for step in steps:
                        step.cancel()  # what was not marked is sent again by the next turn, in order
                    await asyncio.gather(*steps, return_exceptions=True)
                    raise
                errors = {step: step.exception() for step in steps}
                if reading is not None and (error := errors[reading]) is not None:
                    raise error  # the database: this batch stays unmarked, and is sent again
                if (error := errors[sending]) is not None:  # the bus: this batch and all after it stay unmarked
                    if not isinstance(error, Exception):
                        raise error
                    turn.error = error
                    break
                marking = asyncio.ensure_future(mark(batch, marking))
                turn.more = batch.full and not look  # a full batch, and the turn's bound reached
                batch = reading.result() if reading is not None else None
        except asyncio.CancelledError:
            if marking is not None:  # a mark of acknowledged rows under way saves sending them again: a moment for it
                await asyncio.wait([marking], timeout=_MARK_GRACE)
                marking.cancel()
            raise
        finally:
            if marking is not None:  # the marks started finish before the lock is released
                await asyncio.gather(marking, return_exceptions=True)
        if marking is not None:
            marking.result()  # raises what failed a mark
        return turn

    async def _read(self, conn: AsyncConnection, after: int | None) -> _Batch | None:
        query = self._read_query if after is None else self._read_query.where(outbox.c.id > after)
        async with conn.begin():
            if self._db.is_postgres:
                # And never a sort, not even on a table without statistics yet (a new service's first backlog).
                await conn.execute(_NO_SORT)
            rows = (await conn.execute(query)).all()
        return await _Batch.of(rows, self._batch_size) if rows else None

    async def _mark(self, conn: AsyncConnection, batch: _Batch, turn: _Turn) -> None:
        async with conn.begin():
            result = await conn.execute(batch.marking(datetime.now(UTC)))
        marked = int(result.rowcount)
        if marked != len(batch.ids):  # another relay published them too (two relays without a common lock?)
            log.warning("relay.rows_already_marked", batch=len(batch.ids), marked=marked)
        turn.published += len(batch.ids)
        turn.topics.update(topic for topic, _ in batch.items)

    async def _publish(self, batch: _Batch) -> None:
        # Each record carries the trace context of the request that caused it (stored with the row),
        # so the consumer's span continues that trace; the batch gets one producer span of its own.
        with tracer().start_as_current_span(
            "publish outbox batch",
            kind=trace.SpanKind.PRODUCER,
            attributes={"messaging.system": "kafka", "messaging.batch.message_count": len(batch.ids)},
        ):
            await self._producer.send_many(batch.items)

    async def _has_pending(self) -> bool:
        async with self._db.session() as session:
            found = await session.scalar(
                sa.select(sa.literal(1)).select_from(outbox).where(outbox.c.dispatched_at.is_(None)).limit(1)
            )
        return found is not None

    async def _update_lag(self) -> None:
        async with self._db.session() as session:
            pending, oldest = (
                await session.execute(
                    sa.select(sa.func.count(), sa.func.min(outbox.c.occurred_at)).where(
                        outbox.c.dispatched_at.is_(None)
                    )
                )
            ).one()
        metrics.outbox_pending.set(pending)
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=UTC)
        metrics.outbox_oldest_age.set((datetime.now(UTC) - oldest).total_seconds() if oldest else 0)


async def prune_outbox(context: ServiceContext, retention: timedelta) -> int:
    """Delete rows published longer ago than `retention` (a periodic job of every service). Rows not
    yet published are never deleted, however old."""
    cutoff = context.clock.now() - retention
    async with context.database.transaction() as session:
        result = await session.execute(
            outbox.delete().where(outbox.c.dispatched_at.is_not(None), outbox.c.dispatched_at < cutoff)
        )
    pruned = int(result.rowcount)  # type: ignore[attr-defined]
    if pruned:
        log.info("outbox.pruned", rows=pruned, cutoff=cutoff.isoformat())
    return pruned
