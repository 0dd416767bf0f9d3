"""List and replay dead letters.

    prasmes-dlq list   --topic accounts.accounts
    prasmes-dlq replay --topic accounts.accounts [--event-id ID]

Replay publishes the original record again on its original topic, with the same event id: the
consumers that already handled it skip it through their inbox, the one that failed applies it.
Settings (BUS, KAFKA_BOOTSTRAP_SERVERS, EVENT_LOG_PATH) come from the environment.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from dataclasses import dataclass

from prasmes_runtime.bus import Bus, create_bus
from prasmes_runtime.consumer import DLQ_PREFIX, original_record
from prasmes_runtime.settings import Settings


@dataclass(frozen=True)
class DeadLetter:
    offset: int
    event_id: str | None
    event_type: str | None
    consumer: str | None
    error: str | None
    failed_at: str | None


async def list_dead_letters(bus: Bus, topic: str) -> list[DeadLetter]:
    return [
        DeadLetter(
            offset=d.offset,
            event_id=d.record.header("ce_id"),
            event_type=d.record.header("ce_type"),
            consumer=d.record.header(DLQ_PREFIX + "consumer"),
            error=d.record.header(DLQ_PREFIX + "error"),
            failed_at=d.record.header(DLQ_PREFIX + "failed_at"),
        )
        for d in await bus.read_all(f"{topic}.dlq")
    ]


async def replay(bus: Bus, topic: str, event_id: str | None = None) -> int:
    """Publish dead letters of `topic` again; returns how many."""
    letters = [
        d for d in await bus.read_all(f"{topic}.dlq") if event_id is None or d.record.header("ce_id") == event_id
    ]
    producer = bus.producer()
    await producer.start()
    try:
        await producer.send_many([original_record(d.record) for d in letters])
    finally:
        await producer.stop()
    return len(letters)


async def _main(args: argparse.Namespace) -> None:
    bus = create_bus(Settings())
    if args.command == "list":
        for letter in await list_dead_letters(bus, args.topic):
            print(json.dumps(letter.__dict__))
    else:
        print(f"replayed {await replay(bus, args.topic, args.event_id)} dead letters")


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="prasmes-dlq", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=["list", "replay"])
    parser.add_argument("--topic", required=True, help="the original topic, e.g. accounts.accounts")
    parser.add_argument("--event-id", help="replay only this event")
    asyncio.run(_main(parser.parse_args()))


if __name__ == "__main__":
    main()
