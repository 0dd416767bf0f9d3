"""Idempotent event consumers.

For each record: decode the CloudEvent, then in ONE transaction insert `(consumer, event id)` into
the inbox and run the handler; a duplicate inbox row means the event already took effect. Offsets
are committed only after that transaction. A record that keeps failing goes, after bounded retries,
to `<topic>.dlq` with the error and the original record, and the partition moves on.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar, overload

from opentelemetry import trace
from prasmes_contracts import CloudEvent, Event, KafkaRecord, from_kafka, topic_for
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from prasmes_runtime import metrics
from prasmes_runtime.bus import Bus, BusUnavailable, Delivered, Producer, Subscription
from prasmes_runtime.clock import SystemClock
from prasmes_runtime.context import EventContext, ServiceContext
from prasmes_runtime.db import Database, insert_new
from prasmes_runtime.logging import get_logger
from prasmes_runtime.messaging import inbox
from prasmes_runtime.settings import Settings
from prasmes_runtime.telemetry import context_from_headers, tracer

log = get_logger(__name__)

E = TypeVar("E", bound=Event)
Handler = Callable[[EventContext, Any], Awaitable[None]]
_Typed = tuple[CloudEvent, Handler, Event]
DLQ_PREFIX = "dlq_"
INBOXED_CHUNK = 50
"""An inboxed consumer's records applied in one transaction at most: a transaction per event was most of what an
event cost (begin, commit, a connection from the pool), and a longer one would hold SQLite's write lock against the
service's own requests."""
LOOK_SECONDS = 1.0
"""How often a consumer reports its lag and (with generations) looks whether a rebuild has started the next one:
after every batch, the embedded log's lag (two reads per topic) and the generation's read were most of what a lone
event cost the statistics worker."""


class Handlers:
    """Event type -> handler. A handler gets its context (session, envelope, clock, settings,
    adapters) and the typed event."""

    def __init__(self) -> None:
        self._by_type: dict[str, tuple[type[Event], Handler]] = {}

    @overload
    def on(self, event: type[E], /) -> Callable[[Callable[[EventContext, E], Awaitable[None]]], Handler]: ...

    @overload
    def on(self, *events: type[Event]) -> Callable[[Handler], Handler]: ...

    def on(self, *events: type[Event]) -> Callable[[Handler], Handler]:
        """Register one handler for one or more event types (a handler of several takes their union)."""

        def register(fn: Handler) -> Handler:
            for event in events:
                self._by_type[event.event_type()] = (event, fn)
            return fn

        return register

    def get(self, event_type: str) -> tuple[type[Event], Handler] | None:
        return self._by_type.get(event_type)

    def topics(self) -> list[str]:
        """The topics that carry the handled events, from the topic registry."""
        return sorted({topic_for(event).name for event, _ in self._by_type.values()})


@dataclass(frozen=True)
class Batched:
    """A consumer whose handlers are idempotent by their tables' keys (a projection: a second delivery of an event
    writes what the first wrote). A polled batch is handled in one transaction, without inbox rows, and `flush` then
    writes, in the same transaction, what the handlers gathered (bulk statements rather than one per event)."""

    flush: Callable[[ServiceContext, AsyncSession], Awaitable[None]]
    max_records: int = 1000
    """Records polled (and applied in one transaction) at most at a time."""


@dataclass(frozen=True)
class ConsumerSpec:
    name: str
    """The consumer group and the inbox's consumer name (the service's name, as a rule)."""
    handlers: Handlers
    topics: Sequence[str] = ()
    """Default: every topic that carries a handled event (from the topic registry)."""
    batched: Batched | None = None
    """None: one transaction per event, its inbox row making a second delivery a no-op."""
    generation: Callable[[ServiceContext], Awaitable[int]] | None = None
    """For a projection that can be rebuilt from the first offsets: its current generation (read from the service's
    database). The group and the inbox's consumer name are then `<name>.g<generation>`; when the generation changes
    the consumer leaves its group for the new one, which has no offsets yet and so starts from the first."""

    def __post_init__(self) -> None:
        if not self.topics:
            object.__setattr__(self, "topics", tuple(self.handlers.topics()))

    def renamed(self, suffix: str) -> ConsumerSpec:
        """The same consumer in a group of its own (tests sharing one broker keep their groups apart)."""
        return replace(self, name=f"{self.name}{suffix}") if suffix else self

    def group(self, generation: int | None) -> str:
        """The consumer group (and inbox name) of a generation; the spec's name when it has none."""
        return self.name if generation is None else f"{self.name}.g{generation}"


class PoisonRecord(Exception):
    """A record that can never be handled (not a CloudEvent, or data that fails its contract)."""


class EventConsumer:
    def __init__(
        self,
        spec: ConsumerSpec,
        bus: Bus,
        database: Database,
        dead_letters: Producer,
        *,
        context: ServiceContext | None = None,
        max_attempts: int = 3,
        retry_backoff: float = 0.2,
        batch_size: int = 200,
    ) -> None:
        self.spec = spec
        self._bus = bus
        self._db = database
        self._context = context or ServiceContext(Settings(), database, SystemClock())
        self._dead_letters = dead_letters
        self._max_attempts = max_attempts
        self._retry_backoff = retry_backoff
        self._max_records = spec.batched.max_records if spec.batched is not None else batch_size
        self.group = spec.name
        """The group consumed in now (and the inbox's consumer name): the spec's name, or its generation's."""

    async def run(self) -> None:
        """Consume until cancelled; reconnects after a bus outage, moves to a new generation's group when told."""
        generation: int | None = None
        while True:
            generation = await self._generation(generation)
            self.group = self.spec.group(generation)
            subscription = self._bus.subscription(self.group, self.spec.topics)
            try:
                await subscription.start()
                await self._consume(subscription, generation)
                log.info("consumer.generation_changed", consumer=self.spec.name, left=self.group)
            except BusUnavailable as exc:
                log.warning("consumer.bus_unavailable", consumer=self.spec.name, error=str(exc))
                await asyncio.sleep(1.0)
            finally:
                await subscription.stop()

    async def _consume(self, subscription: Subscription, generation: int | None) -> None:
        """Until the bus fails or (for a generation's group) the generation changes."""
        looked = 0.0
        while True:
            batch = await subscription.poll(timeout=0.5, max_records=self._max_records)
            if self.spec.batched is not None:
                await self.process_together(batch)
            else:
                await self.process_inboxed(batch)
            await subscription.commit(batch)
            if time.monotonic() - looked < LOOK_SECONDS:
                continue
            looked = time.monotonic()
            await self._report_lag(subscription)
            if await self._generation(generation) != generation:
                return

    async def _generation(self, current: int | None) -> int | None:
        """The spec's current generation (None without one). While the database cannot say: the one consumed in, or
        before the first, wait for it."""
        while self.spec.generation is not None:
            try:
                return await self.spec.generation(self._context)
            except Exception as exc:
                log.warning("consumer.generation_unknown", consumer=self.spec.name, error=repr(exc))
                if current is not None:
                    return current
                await asyncio.sleep(1.0)
        return None

    async def _report_lag(self, subscription: Subscription) -> None:
        for (topic, partition), lag in (await subscription.lag()).items():
            metrics.consumer_lag.labels(self.spec.name, topic, str(partition)).set(lag)

    async def process(self, delivered: Delivered) -> None:
        """Handle one record with bounded retries; dead-letter it when they run out."""
        error: Exception | None = None
        for attempt in range(1, self._max_attempts + 1):
            try:
                await self._handle_once(delivered)
                return
            except PoisonRecord as exc:
                error = exc
                break
            except Exception as exc:
                error = exc
                log.warning(
                    "consumer.retry",
                    consumer=self.spec.name,
                    topic=delivered.topic,
                    offset=delivered.offset,
                    attempt=attempt,
                    error=repr(exc),
                )
                if attempt < self._max_attempts:
                    await asyncio.sleep(self._retry_backoff * 2 ** (attempt - 1))
        assert error is not None
        await self._dead_letter(delivered, error)

    async def process_together(self, batch: Sequence[Delivered]) -> None:
        """A batched spec's polled records in one transaction, without inbox rows; when it fails, each record on its
        own (with the retries and the dead letter of `process`), so that one bad record holds back no other."""
        with _collector_paused():
            await self._together(batch)

    async def _together(self, batch: Sequence[Delivered]) -> None:
        typed: list[tuple[Delivered, _Typed]] = []
        for delivered in batch:
            try:
                found = self._typed(delivered)
            except PoisonRecord as exc:
                await self._dead_letter(delivered, exc)
                continue
            if found is not None:
                typed.append((delivered, found))
        if not typed:
            return
        try:
            with tracer().start_as_current_span(f"process {len(typed)} records", kind=trace.SpanKind.CONSUMER):
                async with self._db.transaction() as session:
                    for _, (envelope, handler, event) in typed:
                        await handler(EventContext(session, envelope, self._context), event)
                    await self._flush(session)
        except Exception as exc:
            log.warning("consumer.batch_failed", consumer=self.spec.name, records=len(typed), error=repr(exc))
            for delivered, _ in typed:
                await self.process(delivered)
            return
        for event_type, count in Counter(envelope.type for _, (envelope, _, _) in typed).items():
            metrics.events_consumed.labels(self.spec.name, event_type, "applied").inc(count)

    def _typed(self, delivered: Delivered) -> _Typed | None:
        """The record's envelope, handler and typed event; None for an event this consumer does not handle."""
        envelope = _decode(delivered.record)
        registered = self.spec.handlers.get(envelope.type)
        if registered is None:
            return None
        event_cls, handler = registered
        try:
            return envelope, handler, event_cls.model_validate(envelope.data)
        except ValidationError as exc:
            raise PoisonRecord(f"data does not match {envelope.type}: {exc}") from exc

    async def process_inboxed(self, batch: Sequence[Delivered]) -> None:
        """An inboxed spec's records in order, `INBOXED_CHUNK` to a transaction, each with its inbox row and its own
        span; a chunk that fails (or holds a record that is no event) is rolled back and its records handled one by
        one (with the retries and the dead letter of `process`)."""
        for start in range(0, len(batch), INBOXED_CHUNK):
            chunk = batch[start : start + INBOXED_CHUNK]
            if not await self._inboxed_together(chunk):
                for delivered in chunk:
                    await self.process(delivered)

    async def _inboxed_together(self, chunk: Sequence[Delivered]) -> bool:
        try:
            typed = [(delivered, found) for delivered in chunk if (found := self._typed(delivered)) is not None]
        except PoisonRecord:
            return False
        if not typed:
            return True
        outcomes: list[tuple[str, str]] = []
        try:
            async with self._db.transaction() as session:
                for delivered, (envelope, handler, event) in typed:
                    with self._span(delivered, envelope):
                        outcomes.append((envelope.type, await self._inboxed(session, handler, event, envelope)))
        except Exception as exc:
            log.warning("consumer.chunk_failed", consumer=self.spec.name, records=len(typed), error=repr(exc))
            return False
        for event_type, outcome in outcomes:
            metrics.events_consumed.labels(self.spec.name, event_type, outcome).inc()
        return True

    async def _handle_once(self, delivered: Delivered) -> None:
        found = self._typed(delivered)
        if found is None:
            return  # not an event this consumer cares about
        envelope, handler, event = found
        with self._span(delivered, envelope):
            outcome = await self._apply(handler, event, envelope)
        metrics.events_consumed.labels(self.spec.name, envelope.type, outcome).inc()

    def _span(self, delivered: Delivered, envelope: CloudEvent) -> contextlib.AbstractContextManager[trace.Span]:
        """The event's consumer span, a child of the trace its producer recorded."""
        parent = context_from_headers({"traceparent": envelope.traceparent or ""})
        return tracer().start_as_current_span(
            f"process {envelope.type}",
            context=parent,
            kind=trace.SpanKind.CONSUMER,
            attributes={
                "messaging.system": "kafka",
                "messaging.destination.name": delivered.topic,
                "messaging.consumer.group.name": self.group,
                "messaging.message.id": envelope.id,
            },
        )

    async def _apply(self, handler: Handler, event: Event, envelope: CloudEvent) -> str:
        if self.spec.batched is not None:
            async with self._db.transaction() as session:
                await handler(EventContext(session, envelope, self._context), event)
                await self._flush(session)
            return "applied"
        try:
            async with self._db.transaction() as session:
                return await self._inboxed(session, handler, event, envelope)
        except IntegrityError as exc:
            if _is_inbox_conflict(exc):
                return "duplicate"  # a concurrent delivery committed first
            raise

    async def _inboxed(self, session: AsyncSession, handler: Handler, event: Event, envelope: CloudEvent) -> str:
        """The event's inbox row and, unless it was there already (a second delivery), its handler."""
        row = {
            "consumer": self.group,
            "event_id": envelope.id,
            "event_type": envelope.type,
            "processed_at": datetime.now(UTC),
        }
        if not await insert_new(session, inbox, row):
            return "duplicate"
        await handler(EventContext(session, envelope, self._context), event)
        return "applied"

    async def _flush(self, session: AsyncSession) -> None:
        assert self.spec.batched is not None
        await self.spec.batched.flush(self._context, session)

    async def _dead_letter(self, delivered: Delivered, error: Exception) -> None:
        log.error(
            "consumer.dead_letter",
            consumer=self.group,
            topic=delivered.topic,
            offset=delivered.offset,
            error=repr(error),
        )
        record = dead_letter_record(delivered, self.group, error)
        while True:
            try:
                await self._dead_letters.send_many([(f"{delivered.topic}.dlq", record)])
                break
            except BusUnavailable:
                await asyncio.sleep(1.0)  # never move on without the dead letter stored
        metrics.events_consumed.labels(self.spec.name, "unknown", "dead_lettered").inc()


async def prune_inbox(context: ServiceContext, retention: timedelta) -> int:
    """Forget inbox entries older than `retention` (a periodic job of every service). The retention
    must be at least the bus's: an event can only be redelivered while the bus still holds it."""
    cutoff = context.clock.now() - retention
    async with context.database.transaction() as session:
        result = await session.execute(inbox.delete().where(inbox.c.processed_at < cutoff))
    pruned = int(result.rowcount)  # type: ignore[attr-defined]
    if pruned:
        log.info("inbox.pruned", rows=pruned, cutoff=cutoff.isoformat())
    return pruned


_paused = 0


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """The cycle collector off while a batch is applied. A batch makes tens of thousands of objects that live until
    its transaction ends, so the collector's young generation filled and was walked dozens of times per batch for
    nothing (a third of the batch's CPU); reference counting still frees what the batch drops, and the collector
    runs again once the last batch in flight is done."""
    global _paused
    _paused += 1
    if _paused == 1:
        gc.disable()
    try:
        yield
    finally:
        _paused -= 1
        if _paused == 0:
            gc.enable()


def _decode(record: KafkaRecord) -> CloudEvent:
    try:
        return from_kafka(record)
    except ValueError as exc:
        raise PoisonRecord(str(exc)) from exc


def _is_inbox_conflict(exc: IntegrityError) -> bool:
    return "inbox" in str(exc.orig).lower() or "inbox" in str(exc.statement or "").lower()


def dead_letter_record(delivered: Delivered, consumer: str, error: Exception) -> KafkaRecord:
    extra = {
        "original_topic": delivered.topic,
        "original_partition": str(delivered.partition),
        "original_offset": str(delivered.offset),
        "consumer": consumer,
        "error": f"{type(error).__name__}: {error}"[:4000],
        "failed_at": datetime.now(UTC).isoformat(),
    }
    headers = [(k, v) for k, v in delivered.record.headers if not k.startswith(DLQ_PREFIX)]
    headers += [(DLQ_PREFIX + k, v.encode()) for k, v in extra.items()]
    return KafkaRecord(key=delivered.record.key, value=delivered.record.value, headers=headers)


def original_record(dead_letter: KafkaRecord) -> tuple[str, KafkaRecord]:
    """The topic and record a dead letter came from, as they were first published."""
    topic = dead_letter.header(DLQ_PREFIX + "original_topic")
    if topic is None:
        raise ValueError("not a dead letter: no dlq_original_topic header")
    headers = [(k, v) for k, v in dead_letter.headers if not k.startswith(DLQ_PREFIX)]
    return topic, KafkaRecord(key=dead_letter.key, value=dead_letter.value, headers=headers)
