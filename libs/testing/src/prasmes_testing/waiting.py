"""Waiting for a positive signal instead of sleeping, and background tasks that must not die quietly.

    async with supervised(relay.run(), consumer.run()) as tasks:
        ...
        await caught_up(bus, group, [topic], tasks=tasks)   # the group committed every record of the topic
    # leaving the block cancels the tasks and fails unless every one of them ended by that cancellation

"No duplicate arrived" is only worth asserting once every record that could carry one has been
consumed: :func:`caught_up` waits until the consumer group's committed offsets reach the end offsets
of its topics (on Kafka read with the admin client, without joining the group; on the embedded log
through its subscription's ``lag()``, which reads the committed offsets table). A consumer task that
crashed, or a service process that exited, fails the wait at once instead of timing out later.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterable, Mapping, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from prasmes_runtime.bus import Bus
from prasmes_runtime.bus.embedded import EmbeddedBus
from prasmes_runtime.bus.kafka import KafkaBus

__all__ = [
    "assert_alive",
    "assert_ended_cleanly",
    "caught_up",
    "group_lag",
    "processes_alive",
    "stop_cleanly",
    "supervised",
    "until",
]

Partition = tuple[str, int]


def assert_alive(tasks: Iterable[asyncio.Task[Any]]) -> None:
    """Fail if a task that should run until cancelled has ended (raised, or returned early)."""
    ended = [task for task in tasks if task.done()]
    if ended:
        raise AssertionError("background tasks ended while they should still run: " + _describe(ended))


def assert_ended_cleanly(tasks: Iterable[asyncio.Task[Any]]) -> None:
    """Fail unless every (finished) task ended by being cancelled: not with an exception, not by returning."""
    unclean = [task for task in tasks if not task.done() or not task.cancelled()]
    if unclean:
        raise AssertionError("background tasks did not end by cancellation: " + _describe(unclean))


async def stop_cleanly(tasks: Sequence[asyncio.Task[Any]]) -> None:
    """Cancel the tasks, wait for them, and fail unless each ended by that cancellation."""
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.wait(tasks)
    assert_ended_cleanly(tasks)


@contextlib.asynccontextmanager
async def supervised(*coroutines: Coroutine[Any, Any, Any]) -> AsyncIterator[list[asyncio.Task[Any]]]:
    """Run coroutines as tasks for the block; on leaving it cancel them and fail unless every one
    ended by that cancellation (a task that crashed, or returned, fails the test)."""
    tasks = [asyncio.ensure_future(c) for c in coroutines]
    try:
        yield tasks
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.wait(tasks)
        raise
    await stop_cleanly(tasks)


def processes_alive(processes: Mapping[str, subprocess.Popen[bytes]]) -> Callable[[], None]:
    """A health check for :func:`until` / :func:`caught_up`: every process still runs."""

    def check() -> None:
        dead = {name: p.returncode for name, p in processes.items() if p.poll() is not None}
        if dead:
            raise AssertionError(f"processes exited while they should still run: {dead}")

    return check


async def until(
    check: Callable[[], Awaitable[bool]],
    *,
    timeout: float = 60,
    interval: float = 0.2,
    tasks: Iterable[asyncio.Task[Any]] = (),
    healthy: Callable[[], object] | None = None,
    what: str = "the condition",
) -> None:
    """Wait until `check()` is true; fail at once when a watched task ended or `healthy()` raises."""
    watched = list(tasks)
    deadline = time.monotonic() + timeout
    while True:
        assert_alive(watched)
        if healthy is not None:
            healthy()
        if await check():
            return
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what} was not reached within {timeout} s")
        await asyncio.sleep(interval)


async def group_lag(bus: Bus, group: str, topics: Sequence[str]) -> dict[Partition, int]:
    """Records of `topics` not yet committed by `group`, per partition (end offset - committed offset).
    Reads the broker's (or the log's) committed offsets; never joins the group."""
    if isinstance(bus, KafkaBus):
        return await _kafka_lag(bus.bootstrap, group, topics)
    if isinstance(bus, EmbeddedBus):
        subscription = bus.subscription(group, topics)  # lag() reads the offsets table; it does not consume
        try:
            return await subscription.lag()
        finally:
            await subscription.stop()
    raise TypeError(f"no way to read the committed offsets of a {type(bus).__name__}")


async def caught_up(
    bus: Bus,
    group: str,
    topics: Sequence[str],
    *,
    timeout: float = 60,
    tasks: Iterable[asyncio.Task[Any]] = (),
    healthy: Callable[[], object] | None = None,
) -> None:
    """Wait until `group` has committed every record of `topics` (its committed offsets reach the end
    offsets). Call it once nothing more is being published: it says nothing of records that come later."""
    last: dict[Partition, int] = {}

    async def done() -> bool:
        try:
            lag = await group_lag(bus, group, topics)
        except KafkaError:
            return False  # the broker is not answering yet (e.g. restarting): ask again
        last.clear()
        last.update(lag)
        return all(n <= 0 for n in lag.values())

    try:
        await until(done, timeout=timeout, interval=0.2, tasks=tasks, healthy=healthy, what=f"group {group} caught up")
    except AssertionError as exc:
        behind = {f"{t}[{p}]": lag for (t, p), lag in sorted(last.items()) if lag > 0}
        raise AssertionError(f"{exc}; still behind: {behind}") from exc


async def _kafka_lag(bootstrap: str, group: str, topics: Sequence[str]) -> dict[Partition, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    await consumer.start()
    try:
        await admin.start()
        cluster = await consumer._client.fetch_all_metadata()  # fresh: topics may have just been created
        partitions = [TopicPartition(t, p) for t in topics for p in sorted(cluster.partitions_for_topic(t) or ())]
        missing = [t for t in topics if cluster.partitions_for_topic(t) is None]
        if missing:
            raise AssertionError(f"no such topics on the broker: {missing}")
        ends = await consumer.end_offsets(partitions)
        committed = await admin.list_consumer_group_offsets(group, partitions=partitions)
    finally:
        await admin.close()
        await consumer.stop()
    result: dict[Partition, int] = {}
    for tp in partitions:
        meta = committed.get(tp)
        done = meta.offset if meta is not None and meta.offset >= 0 else 0
        result[(tp.topic, tp.partition)] = ends[tp] - done
    return result


async def start_at_the_end(bootstrap: str, group: str, topics: Sequence[str]) -> None:
    """Commit, for a group that has not started, the end offsets of those of `topics` the broker has: it starts
    after what earlier tests left on the suite's broker instead of reading all of it (a group new to a topic
    otherwise reads it from the beginning, as the services' groups do in production)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        cluster = await consumer._client.fetch_all_metadata()
        partitions = [TopicPartition(t, p) for t in topics for p in sorted(cluster.partitions_for_topic(t) or ())]
        if partitions:
            consumer.assign(partitions)
            await consumer.commit(await consumer.end_offsets(partitions))
    finally:
        await consumer.stop()


def _describe(tasks: Iterable[asyncio.Task[Any]]) -> str:
    parts = []
    for task in tasks:
        name = task.get_name()
        if not task.done():
            parts.append(f"{name}: still running")
        elif task.cancelled():
            parts.append(f"{name}: cancelled")
        elif task.exception() is not None:
            parts.append(f"{name}: raised {task.exception()!r}")
        else:
            parts.append(f"{name}: returned {task.result()!r}")
    return "; ".join(parts)
