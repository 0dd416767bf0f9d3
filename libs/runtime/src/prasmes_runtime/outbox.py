"""The transactional outbox and its relay.

`record_event` writes the event row in the caller's transaction, beside the state change. The relay
publishes undispatched rows in id order (so in order per key), marks them, retries with backoff, and
resumes from the table after a crash or a broker outage. On PostgreSQL an advisory lock keeps a
single relay active per database when a service runs several replicas.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from opentelemetry import trace
from prasmes_contracts import CloudEvent, Event, KafkaRecord, binary_record, encode_data, topic_for
from sqlalchemy.ext.asyncio import AsyncSession

from prasmes_runtime import metrics
from prasmes_runtime.bus import BusUnavailable, Producer
from prasmes_runtime.context import ServiceContext
from prasmes_runtime.db import OUTBOX_WRITTEN, Database
from prasmes_runtime.logging import get_logger
from prasmes_runtime.messaging import outbox
from prasmes_runtime.telemetry import current_trace_headers, tracer

_RELAY_LOCK_ID = 0x707261736D6573  # "prasmes": one relay per database at a time
log = get_logger(__name__)


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
        outbox.insert(),
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


def _record(row: sa.Row[Any]) -> KafkaRecord:
    m = row._mapping
    return binary_record(
        key=m["partition_key"],
        id=m["event_id"],
        source=m["source"],
        type=m["event_type"],
        time=m["occurred_at"],
        subject=m["subject"],
        data=m["data"],
        traceparent=m["traceparent"],
        tracestate=m["tracestate"],
    )


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
    ) -> None:
        self._db = database
        self._producer = producer
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._max_backoff = max_backoff
        self._linger = linger

    async def run(self) -> None:
        """Publish until cancelled."""
        backoff = 0.1
        while True:
            try:
                published = await self.publish_pending()
                backoff = 0.1
            except BusUnavailable as exc:
                log.warning("relay.bus_unavailable", error=str(exc), retry_in=backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self._max_backoff)
                continue
            except Exception:
                log.exception("relay.failed", retry_in=backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self._max_backoff)
                continue
            if published < self._batch_size:
                await self._wait_for_work()

    async def _wait_for_work(self) -> None:
        self._db.outbox_signal.clear()
        try:
            await asyncio.wait_for(self._db.outbox_signal.wait(), self._poll_interval)
        except TimeoutError:
            await self._update_lag()
            return
        # Linger a moment so that commits arriving together leave in one batch, not one each.
        await asyncio.sleep(self._linger)

    async def publish_pending(self) -> int:
        """One batch: publish the oldest undispatched rows and mark them. Returns how many."""
        async with self._db.transaction() as session:
            if self._db.is_postgres and not await session.scalar(
                sa.select(sa.func.pg_try_advisory_xact_lock(_RELAY_LOCK_ID))
            ):
                return 0
            rows = (
                await session.execute(
                    sa.select(outbox)
                    .where(outbox.c.dispatched_at.is_(None))
                    .order_by(outbox.c.id)
                    .limit(self._batch_size)
                )
            ).all()
            if not rows:
                return 0
            await self._publish(rows)
            await session.execute(
                outbox.update().where(outbox.c.id.in_([r.id for r in rows])).values(dispatched_at=datetime.now(UTC))
            )
        for topic, count in Counter(str(row.topic) for row in rows).items():
            metrics.events_published.labels(topic).inc(count)
        return len(rows)

    async def _publish(self, rows: Sequence[sa.Row[Any]]) -> None:
        # Each record carries the trace context of the request that caused it (stored with the row),
        # so the consumer's span continues that trace; the batch gets one producer span of its own.
        with tracer().start_as_current_span(
            "publish outbox batch",
            kind=trace.SpanKind.PRODUCER,
            attributes={"messaging.system": "kafka", "messaging.batch.message_count": len(rows)},
        ):
            await self._producer.send_many([(str(row.topic), _record(row)) for row in rows])

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
