"""Publishing contract events straight onto a bus, as their owning service would (for tests and demos)."""

from __future__ import annotations

from prasmes_contracts import CloudEvent, Event, from_kafka, to_kafka, topic_for
from prasmes_runtime.bus import Bus


async def publish(bus: Bus, *events: Event, source: str = "/prasmes/test") -> list[CloudEvent]:
    envelopes = [
        CloudEvent(source=source, type=e.event_type(), subject=e.partition_key(), data=e.model_dump(mode="json"))
        for e in events
    ]
    producer = bus.producer()
    await producer.start()
    try:
        await producer.send_many(
            [
                (topic_for(type(e)).name, to_kafka(envelope, e.partition_key()))
                for e, envelope in zip(events, envelopes, strict=True)
            ]
        )
    finally:
        await producer.stop()
    return envelopes


async def events_on(bus: Bus, topic: str, event_type: type[Event] | None = None) -> list[CloudEvent]:
    """Every event on a topic (optionally of one type), decoded."""
    decoded = [from_kafka(d.record) for d in await bus.read_all(topic)]
    return [e for e in decoded if event_type is None or e.type == event_type.event_type()]
