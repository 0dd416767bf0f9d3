"""One outbox relay in an OS process of its own, for test_relay_lock.py:

    python relay_process.py DATABASE_URL KAFKA_BOOTSTRAP REPORT_FILE

It runs `OutboxRelay.run()` on a Kafka producer that reports every batch it publishes (one JSON line: this
process's pid, when the send began and ended on CLOCK_MONOTONIC, which every process of the machine shares,
and the event ids), until SIGTERM. The first line, {"ready": pid}, says the relay runs.
"""

import asyncio
import json
import os
import signal
import sys
import time
from collections.abc import Sequence
from typing import IO

from prasmes_contracts import KafkaRecord
from prasmes_runtime.bus import Producer
from prasmes_runtime.bus.kafka import KafkaBus
from prasmes_runtime.db import Database
from prasmes_runtime.outbox import OutboxRelay


class Reporting:
    def __init__(self, inner: Producer, report: IO[str]) -> None:
        self.inner, self.report = inner, report

    async def start(self) -> None:
        await self.inner.start()

    async def stop(self) -> None:
        await self.inner.stop()

    async def send_many(self, items: Sequence[tuple[str, KafkaRecord]]) -> None:
        began = time.monotonic_ns()
        await self.inner.send_many(items)
        ended = time.monotonic_ns()
        ids = [record.header("ce_id") for _, record in items]
        self.report.write(json.dumps({"pid": os.getpid(), "began": began, "ended": ended, "ids": ids}) + "\n")
        self.report.flush()


async def main(url: str, bootstrap: str, report: IO[str]) -> None:
    database = Database(url)
    producer = Reporting(KafkaBus(bootstrap).producer(), report)
    await producer.start()
    # A standby that tries the lock every 10 ms: the test is about two relays contending for it, turn after turn.
    relay_loop = OutboxRelay(database, producer, batch_size=50, poll_interval=0.02, standby_interval=0.01)
    relay = asyncio.ensure_future(relay_loop.run())
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, relay.cancel)
    report.write(json.dumps({"ready": os.getpid()}) + "\n")
    report.flush()
    try:
        await relay
    except asyncio.CancelledError:
        pass
    finally:
        await producer.stop()
        await database.dispose()


if __name__ == "__main__":
    with open(sys.argv[3], "a") as report_file:
        asyncio.run(main(sys.argv[1], sys.argv[2], report_file))
