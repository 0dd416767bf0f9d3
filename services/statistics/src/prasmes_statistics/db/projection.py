"""Writing the projection: the facts one transaction's handlers gather, written in bulk at its end; the projection's
generation and key; a rebuild's start."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from prasmes_runtime.cache import ShortCache
from prasmes_runtime.db import Database, upsert_many
from sqlalchemy.ext.asyncio import AsyncSession

from prasmes_statistics.db.tables import FACTS, metadata, projection

_FACTS = "statistics.facts"
_KEY = "statistics.person_key"
VERSION_SECONDS = 0.5
"""How long a process keeps the projection's version it read: figures served meanwhile are those of the version
read, at most this much behind a batch another process (the worker) wrote; a write in this process forgets it at
once. Reading it on every request was a third of a cached dashboard's CPU."""
_versions: ShortCache[str, int] = ShortCache(VERSION_SECONDS, entries=1)


class Facts:
    """Rows by table and by the columns they set, the last one for each key: a batch that holds an event twice (or
    two events setting the same columns of one row) writes one row, as one delivery would."""

    def __init__(self) -> None:
        self._rows: dict[tuple[str, tuple[str, ...]], dict[tuple[Any, ...], Mapping[str, Any]]] = {}

    def __bool__(self) -> bool:
        return bool(self._rows)

    def add(self, table: sa.Table, row: Mapping[str, Any]) -> None:
        key = tuple([row[name] for name in _key_of(table)])
        self._rows.setdefault((table.name, tuple(sorted(row))), {})[key] = row

    async def write(self, session: AsyncSession) -> None:
        for (name, _), rows in sorted(self._rows.items()):
            await upsert_many(session, metadata.tables[name], list(rows.values()))
        self._rows.clear()


@functools.cache
def _key_of(table: sa.Table) -> tuple[str, ...]:
    """The names of the table's key columns (SQLAlchemy's column collections are slow to walk once per row)."""
    return tuple(column.name for column in table.primary_key.columns)


def facts_of(session: AsyncSession) -> Facts:
    """The transaction's facts, gathered until `flush`."""
    found = session.info.get(_FACTS)
    if found is None:
        found = session.info[_FACTS] = Facts()
    assert isinstance(found, Facts)
    return found


async def flush(session: AsyncSession) -> None:
    """Write the transaction's facts, and count one more version if there were any."""
    found = session.info.pop(_FACTS, None)
    if isinstance(found, Facts) and found:
        await found.write(session)
        await _next_version(session)


async def _next_version(session: AsyncSession) -> None:
    await session.execute(projection.update().values(version=projection.c.version + 1))
    _versions.forget_on_commit(session, ["version"])


async def version(session: AsyncSession) -> int:
    return int((await session.execute(sa.select(projection.c.version))).scalar_one())


async def current_version(database: Database) -> int:
    """The projection's version, as read in the last `VERSION_SECONDS` (one read however many requests want it)."""
    return await _versions.read(database, "version", lambda: _read_version(database))


async def _read_version(database: Database) -> int:
    async with database.session() as session:
        return await version(session)


async def person_key(session: AsyncSession) -> str:
    """The key of the persons' digests (read once per transaction)."""
    key = session.info.get(_KEY)
    if key is None:
        key = session.info[_KEY] = (await session.execute(sa.select(projection.c.person_key))).scalar_one()
    assert isinstance(key, str)
    return key


async def generation(session: AsyncSession) -> int:
    return int((await session.execute(sa.select(projection.c.generation))).scalar_one())


async def start_rebuild(session: AsyncSession, at: datetime, by: str) -> int:
    """The next generation, with every fact forgotten: its consumer fills them again from the first offsets."""
    updated = await session.execute(
        projection.update()
        .values(
            generation=projection.c.generation + 1,
            version=projection.c.version + 1,
            rebuild_requested_at=at,
            rebuild_requested_by=by,
        )
        .returning(projection.c.generation)
    )
    new = int(updated.scalar_one())
    _versions.forget_on_commit(session, ["version"])
    if (await session.connection()).dialect.name == "postgresql":
        # Emptied rather than deleted row by row: the rebuild's inserts then meet no dead rows in the tables and
        # their indexes (after a DELETE they cost PostgreSQL a third more than the first projection's).
        await session.execute(sa.text("TRUNCATE " + ", ".join(f'"{table.name}"' for table in FACTS)))
    else:
        for table in FACTS:
            await session.execute(table.delete())
    return new


async def state(session: AsyncSession) -> sa.Row[Any]:
    return (await session.execute(sa.select(projection))).one()
