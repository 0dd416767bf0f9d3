"""One async SQLAlchemy engine per service: SQLite (aiosqlite) by default, PostgreSQL (asyncpg) at scale."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import DateTime, Dialect, event, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.types import TypeDecorator

from prasmes_runtime.logging import get_logger
from prasmes_runtime.money import money

OUTBOX_WRITTEN = "outbox_written"
READ_ONLY = "prasmes_read_only"
OUTBOX_CHANNEL = "prasmes_outbox"
"""PostgreSQL: the channel a transaction that wrote outbox rows notifies on commit; relays in any process LISTEN."""
_NOTIFY_OUTBOX = text(f"NOTIFY {OUTBOX_CHANNEL}")
log = get_logger(__name__)


class UtcDateTime(TypeDecorator[datetime]):
    """An instant, always timezone-aware UTC in Python. SQLite keeps no offset, so values read back
    would be naive there and aware on PostgreSQL; this makes both the same."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("a naive datetime cannot be stored as an instant; give it a timezone")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class MoneyColumn(TypeDecorator[Decimal]):
    """The one database encoding of money: NUMERIC(14, 2), read back as a Decimal with two places."""

    impl = sa.Numeric(14, 2, asdecimal=True)
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Decimal | None:
        return None if value is None else money(value)

    def process_result_value(self, value: Decimal | None, dialect: Dialect) -> Decimal | None:
        return None if value is None else money(value)


async def upsert(session: AsyncSession, table: sa.Table, key: dict[str, Any], values: dict[str, Any]) -> None:
    """Insert or update a read-model row (portable across SQLite and PostgreSQL); columns not named
    in `values` keep what they hold."""
    updated = await session.execute(table.update().where(*(table.c[k] == v for k, v in key.items())).values(**values))
    if not updated.rowcount:  # type: ignore[attr-defined]
        await session.execute(table.insert().values(**key, **values))


async def upsert_many(session: AsyncSession, table: sa.Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert the rows or, where a row's key is already there, set the columns the rows name (the others keep what
    they hold), in one statement run for every row (SQLite and PostgreSQL). Every row names the same columns, and no
    key comes twice (PostgreSQL refuses to update a row twice in one statement)."""
    if not rows:
        return
    connection = await session.connection()
    statement = _upsert_statement(table, tuple(rows[0]), connection.dialect)
    await connection.exec_driver_sql(statement.sql, statement.parameters(rows))


async def insert_new(session: AsyncSession, table: sa.Table, row: Mapping[str, Any]) -> bool:
    """Insert the row unless its key is there already (`ON CONFLICT DO NOTHING`, SQLite and PostgreSQL): whether it
    was inserted. One statement, where a savepoint around a plain insert takes three."""
    connection = await session.connection()
    statement = _insert_new_statement(table, tuple(row), connection.dialect)
    (parameters,) = statement.parameters([row])
    return (await connection.exec_driver_sql(statement.sql, parameters)).first() is not None


@dataclass(frozen=True)
class _DriverStatement:
    """SQL in the driver's own parameter style and each column's conversion to what the driver takes: the
    statement's rows go to the driver's `executemany` as tuples, without SQLAlchemy compiling the statement and
    processing every row's parameters on each execution (two thirds of a bulk write's CPU in the client)."""

    sql: str
    columns: tuple[str, ...]
    converters: tuple[Callable[[Any], Any] | None, ...]

    def parameters(self, rows: Sequence[Mapping[str, Any]]) -> list[tuple[Any, ...]]:
        names, converters = self.columns, self.converters
        if not any(converters):
            return [tuple([row[name] for name in names]) for row in rows]
        pairs = tuple(zip(names, converters, strict=True))
        return [tuple([row[n] if c is None else c(row[n]) for n, c in pairs]) for row in rows]


@functools.lru_cache(maxsize=512)
def _upsert_statement(table: sa.Table, columns: tuple[str, ...], dialect: Dialect) -> _DriverStatement:
    """`INSERT ... ON CONFLICT (key) DO UPDATE SET c = excluded.c`, the same on SQLite and PostgreSQL but for the
    placeholders."""
    key = {column.name for column in table.primary_key.columns}
    updated = [name for name in columns if name not in key]
    action = "DO UPDATE SET " + ", ".join(f"{_quoted(n)} = excluded.{_quoted(n)}" for n in updated)
    return _insert_on_conflict(table, columns, dialect, action if updated else "DO NOTHING")


@functools.lru_cache(maxsize=64)
def _insert_new_statement(table: sa.Table, columns: tuple[str, ...], dialect: Dialect) -> _DriverStatement:
    return _insert_on_conflict(table, columns, dialect, "DO NOTHING RETURNING 1")


def _insert_on_conflict(table: sa.Table, columns: tuple[str, ...], dialect: Dialect, action: str) -> _DriverStatement:
    """`INSERT INTO table (columns) VALUES (...) ON CONFLICT (key) <action>` in the driver's placeholders."""
    numbered = dialect.paramstyle.startswith("numeric")  # asyncpg: $1, $2, ...; SQLite: ?
    binds = ", ".join(f"${i}" if numbered else "?" for i in range(1, len(columns) + 1))
    names = ", ".join(_quoted(n) for n in columns)
    keys = ", ".join(_quoted(column.name) for column in table.primary_key.columns)
    sql = f"INSERT INTO {_quoted(table.name)} ({names}) VALUES ({binds}) ON CONFLICT ({keys}) {action}"
    converters = tuple(table.c[name].type.bind_processor(dialect) for name in columns)
    return _DriverStatement(sql, columns, converters)


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class Database:
    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.engine: AsyncEngine = _create_engine(url, echo=echo)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._read_sessions = async_sessionmaker(
            self.engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False
        )
        self.outbox_signal = asyncio.Event()
        """Set after a transaction that wrote outbox rows commits: the relay wakes at once. In this process only;
        on PostgreSQL `listen_for_outbox` sets it for the commits of every process too."""
        self._writers: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}
        self.commits = 0
        """How many transactions (`transaction`) committed in this process: a cache of what a commit may have
        changed keeps its entries under this count, so that a change made here is read at once."""

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A unit of work: everything inside commits together or not at all."""
        async with self._writer_turn(), self._sessions() as session:
            async with session.begin():
                yield session
                if self.is_postgres and session.info.get(OUTBOX_WRITTEN):
                    # Delivered when (and only if) this transaction commits, to the relay of whichever process
                    # runs it; one per transaction however many events it wrote.
                    await session.execute(_NOTIFY_OUTBOX)
            self.commits += 1
            if session.info.pop(OUTBOX_WRITTEN, False):
                self.outbox_signal.set()

    def _writer_turn(self) -> contextlib.AbstractAsyncContextManager[object]:
        """On SQLite, one writing transaction of this process at a time, queued here: SQLite lets one writer in and
        makes the others poll its lock with sleeps of up to 100 ms (its busy handler), which under 32 concurrent
        requests made a p99 of seconds; queued on an asyncio lock each starts the moment the one before commits.
        Writers of other processes (the worker's relay) still meet at SQLite's lock. PostgreSQL: no queue."""
        if self.is_postgres:
            return contextlib.nullcontext()
        loop = asyncio.get_running_loop()
        lock = self._writers.get(loop)
        if lock is None:
            lock = asyncio.Lock()
            self._writers = {loop: lock}  # a loop of an earlier test is forgotten
        return lock

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A read-only session (no commit). On SQLite it does not queue behind writers."""
        async with self._read_sessions() as session:
            yield session

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()

    async def listen_for_outbox(self, keepalive: float = 30.0) -> None:
        """PostgreSQL only: set `outbox_signal` whenever a transaction of any process that wrote outbox rows commits
        (its NOTIFY), until cancelled. Holds one connection of the engine's for good (LISTEN is per connection) and
        reconnects after losing it; the relay's poll interval covers what is missed meanwhile."""
        while True:
            try:
                await self._listen(keepalive)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("outbox.listener_lost", error=type(exc).__name__, retry_in=1.0)
                self.outbox_signal.set()  # rows may have been written while nobody listened
                await asyncio.sleep(1.0)

    async def _listen(self, keepalive: float) -> None:
        conn = await self.engine.connect()
        raw: Any = None

        def notified(*_: object) -> None:
            self.outbox_signal.set()

        try:
            raw = (await conn.get_raw_connection()).driver_connection
            lost = asyncio.Event()
            raw.add_termination_listener(lambda _: lost.set())
            await raw.add_listener(OUTBOX_CHANNEL, notified)
            self.outbox_signal.set()  # anything written before this LISTEN is the relay's to find now
            while not lost.is_set():
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(keepalive):  # not wait_for: it may lose a cancellation (< 3.12)
                        await lost.wait()
                if not lost.is_set():
                    await raw.execute("SELECT 1")  # a peer that vanished without closing shows here
            raise ConnectionError("the LISTEN connection was closed")
        finally:
            await _unlisten(conn, raw, notified)


async def _unlisten(conn: Any, raw: Any, notified: Any) -> None:
    """Give the listener's connection back to the pool without its LISTEN, or, failing that, close it."""
    try:
        if raw is None or raw.is_closed():
            raise ConnectionError("closed")
        async with asyncio.timeout(5):
            await raw.remove_listener(OUTBOX_CHANNEL, notified)  # UNLISTEN
        await conn.close()
    except BaseException as exc:
        with contextlib.suppress(Exception):
            await conn.invalidate()
        with contextlib.suppress(Exception):
            await conn.close()
        if isinstance(exc, asyncio.CancelledError):
            raise


UNDECLARED = "undeclared"
"""`MetaData.info[UNDECLARED]`: the names of what a service's migrations make that SQLAlchemy cannot declare (an
SQLite FTS5 table and its shadow tables, an index with an operator class). The migration checks and
autogenerate leave them alone (`prasmes_runtime.migrations.declared_only`); the service's own tests check them."""


def undeclared(*metadatas: sa.MetaData | None) -> frozenset[str]:
    return frozenset(name for m in metadatas if m is not None for name in m.info.get(UNDECLARED, ()))


ENGINE_OPTIONS: dict[str, Any] = {"hide_parameters": True}
"""Every engine of the platform: a statement's parameters (names, e-mail addresses, phone numbers, ...) appear in
no error message and no log line, `echo` included; the statement itself still does."""


def _create_engine(url: str, *, echo: bool) -> AsyncEngine:
    if url.startswith("sqlite"):
        _ensure_parent(url)
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30}, **ENGINE_OPTIONS)
        _serialise_sqlite_writers(engine)
        return engine
    return create_async_engine(url, echo=echo, pool_size=10, max_overflow=20, pool_pre_ping=True, **ENGINE_OPTIONS)


def _ensure_parent(url: str) -> None:
    path = url.split("///", 1)[-1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)


def _serialise_sqlite_writers(engine: AsyncEngine) -> None:
    # SQLite upgrades a deferred read lock to a write lock without waiting, failing at once with
    # "database is locked" under concurrency. BEGIN IMMEDIATE makes every writing transaction wait
    # its turn; read-only sessions take a plain BEGIN, so that readers never queue behind writers.
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        _use_wal(cursor)
        # In WAL mode NORMAL never corrupts the file; a power cut may lose the last commits, which
        # fits SQLite's role here (one machine, `make run`). PostgreSQL is the durable deployment.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE")


def _use_wal(cursor: Any, attempts: int = 100) -> None:
    # Switching the journal mode ignores the busy timeout: when another process (a service's api and worker start
    # together) is creating the file at that moment it fails at once with "database is locked". Once the file is in
    # WAL mode (it stays so) the check reads it and changes nothing.
    for attempt in range(attempts):
        try:
            cursor.execute("PRAGMA journal_mode")
            if str(cursor.fetchone()[0]).lower() != "wal":
                cursor.execute("PRAGMA journal_mode=WAL")
            return
        except Exception as exc:
            if "locked" not in str(exc).lower() or attempt == attempts - 1:
                raise
            time.sleep(0.05)
