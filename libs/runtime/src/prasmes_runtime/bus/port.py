"""The bus port: what the outbox relay, the consumers and the DLQ tool need of a log of records."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from prasmes_contracts import KafkaRecord


class BusUnavailable(Exception):
    """The bus did not take or give records now; the caller retries later."""


@dataclass(frozen=True)
class Delivered:
    topic: str
    partition: int
    offset: int
    record: KafkaRecord


class Producer(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def send_many(self, items: Sequence[tuple[str, KafkaRecord]]) -> None:
        """Append in the given order (kept per key) and return once every record is acknowledged."""
        ...


class Subscription(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def poll(self, timeout: float, max_records: int) -> list[Delivered]: ...
    async def commit(self, delivered: Sequence[Delivered]) -> None:
        """Mark these records consumed for the group: the group resumes after them."""
        ...

    async def lag(self) -> dict[tuple[str, int], int]: ...


class Bus(Protocol):
    name: str

    def producer(self) -> Producer: ...
    def subscription(self, group: str, topics: Sequence[str]) -> Subscription: ...
    async def ensure_topics(self, topics: Sequence[str]) -> None: ...
    async def read_all(self, topic: str) -> list[Delivered]:
        """Every record of a topic from its first offset (for listing dead letters)."""
        ...

    async def rewind(self, group: str, topic: str) -> None:
        """Move a group back to the first offset of a topic (replay; the group must be stopped)."""
        ...

    async def positions(self, group: str, topics: Sequence[str]) -> dict[tuple[str, int], tuple[int, int]]:
        """Per partition of the topics: the group's committed offset (0 before its first commit) and the end offset
        (how far the group has come, e.g. a rebuild's progress)."""
        ...

    async def ping(self) -> None: ...
