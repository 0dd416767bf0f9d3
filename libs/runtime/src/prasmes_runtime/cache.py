"""A process's short cache of what was read: what many requests want at the same moment is read once, and a page read
again and again within a few seconds reads nothing again (surveys' results and memberships, statistics' figures).

A value read under load when it expired is read by one request while the others wait for that read (with 32
requests in flight each reading an expired membership, surveys' results p99 queued 32 reads for the database); a
failed read is nobody's value; an entry lives between half its time and all of it, so that entries filled together
do not all expire in the same instant."""

from __future__ import annotations

import asyncio
import random
import time
import weakref
from collections.abc import Awaitable, Callable, Iterable
from typing import Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from prasmes_runtime.db import Database

K = TypeVar("K")
V = TypeVar("V")
CACHE_SECONDS = 5.0
CACHE_ENTRIES = 20_000


class ShortCache(Generic[K, V]):
    """What was last read, per database, for `seconds`: a page read again and again reads nothing again. A write in
    this process forgets what it touched at once (`forget_on_commit`); one in another process (a second api worker,
    the worker's consumers) shows after at most `seconds`."""

    def __init__(self, seconds: float = CACHE_SECONDS, entries: int = CACHE_ENTRIES) -> None:
        self.seconds = seconds
        self._entries = entries
        self._kept: weakref.WeakKeyDictionary[Database, dict[K, tuple[float, V]]] = weakref.WeakKeyDictionary()
        self._reading: dict[tuple[int, K], asyncio.Future[V]] = {}

    def get(self, database: Database, key: K) -> V | None:
        kept = self._kept.get(database, {}).get(key)
        return kept[1] if kept is not None and kept[0] > time.monotonic() else None

    async def read(self, database: Database, key: K, reader: Callable[[], Awaitable[V]]) -> V:
        """From the cache, or read once however many requests want it at the same moment: when it expires under
        load, one request reads it and the others wait for that read (not 32 reads queued for the database)."""
        found = self.get(database, key)
        if found is not None:
            return found
        flight = (id(database), key)
        reading = self._reading.get(flight)
        if reading is not None:
            return await asyncio.shield(reading)
        reading = asyncio.get_running_loop().create_future()
        self._reading[flight] = reading
        try:
            value = await reader()
            self.put(database, key, value)
            reading.set_result(value)
            return value
        except BaseException as exc:
            reading.set_exception(exc)
            reading.exception()  # retrieved: no "never retrieved" warning when no one else waited
            raise
        finally:
            del self._reading[flight]

    def put(self, database: Database, key: K, value: V) -> None:
        entries = self._kept.setdefault(database, {})
        if len(entries) >= self._entries:
            entries.clear()
        # Kept between half the time and all of it: entries filled together (a page of programmes) do not all
        # expire in the same instant and send their reads to the database at once.
        entries[key] = (time.monotonic() + self.seconds * (0.5 + random.random() / 2), value)

    def forget(self, keys: Iterable[K]) -> None:
        for kept in self._kept.values():
            for key in keys:
                kept.pop(key, None)

    def forget_on_commit(self, session: AsyncSession, keys: Iterable[K]) -> None:
        """Forgotten now and again once the write commits (a read in between may have kept the old value)."""
        touched = list(keys)
        self.forget(touched)
        sa.event.listen(session.sync_session, "after_commit", lambda _: self.forget(touched), once=True)
