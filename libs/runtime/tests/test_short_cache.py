"""A process's short cache: what many requests want at the same moment is read once (surveys' results p99 at
200 000 answers: 32 requests in flight each reading an expired membership queued 32 reads for the database), a
failed read is nobody's value, and an entry lives at most its time."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from prasmes_runtime import cache as module
from prasmes_runtime.cache import CACHE_SECONDS, ShortCache
from prasmes_runtime.db import Database


@pytest.fixture
async def database(tmp_path: Path) -> Database:
    return Database(f"sqlite+aiosqlite:///{tmp_path / 'cache.db'}")


async def test_what_many_want_at_once_is_read_once(database: Database) -> None:
    cache: ShortCache[str, int] = ShortCache()
    reads = 0
    release = asyncio.Event()

    async def read() -> int:
        nonlocal reads
        reads += 1
        await release.wait()
        return 42

    waiting = [asyncio.create_task(cache.read(database, "user", read)) for _ in range(32)]
    await asyncio.sleep(0)
    release.set()
    assert await asyncio.gather(*waiting) == [42] * 32
    assert reads == 1
    assert await cache.read(database, "user", read) == 42 and reads == 1, "then from the cache"


async def test_a_failed_read_fails_its_waiters_and_keeps_nothing(database: Database) -> None:
    cache: ShortCache[str, int] = ShortCache()
    release = asyncio.Event()

    async def failing() -> int:
        await release.wait()
        raise RuntimeError("the database went away")

    waiting = [asyncio.create_task(cache.read(database, "user", failing)) for _ in range(3)]
    await asyncio.sleep(0)
    release.set()
    outcomes = await asyncio.gather(*waiting, return_exceptions=True)
    assert all(isinstance(o, RuntimeError) for o in outcomes)

    async def working() -> int:
        return 7

    assert await cache.read(database, "user", working) == 7


async def test_an_entry_lives_at_most_the_cache_time(database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    cache: ShortCache[str, int] = ShortCache()
    now = [1000.0]
    monkeypatch.setattr(module.time, "monotonic", lambda: now[0])
    cache.put(database, "user", 1)
    assert cache.get(database, "user") == 1
    now[0] += CACHE_SECONDS + 0.001
    assert cache.get(database, "user") is None
