"""Migrated once, copied for every test: a service's migrations run into a template database the first time the
suite needs them (per migrations and per server), and each later upgrade of an empty database to the heads copies
that template instead of running them again: an SQLite file through SQLite's backup, a PostgreSQL database through
`CREATE DATABASE ... TEMPLATE`. Running a service's migrations takes 0.4–0.9 s; the copy takes a millisecond on
SQLite, and on PostgreSQL (the empty database dropped and made again from the template) 0.2–0.3 s. The suite starts
hundreds of services in-process on an empty database.

The template is the real migrations' output, so a copy is what the migrations would have made. Anything else goes
to the migrations themselves: another revision than the heads, a database that is not empty (a test that upgrades
step by step, or down and up again), a database someone else is connected to, and every test marked
`real_migrations` (those about the migrations themselves).
"""

from __future__ import annotations

import hashlib
import importlib
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from prasmes_runtime import migrations

from prasmes_testing.servers import _asyncpg_dsn, _run_coroutine, _with_database, create_database

Upgrade = Callable[..., None]
HEADS = "heads"


class MigratedTemplates:
    """Stands in for `prasmes_runtime.migrations.upgrade` while installed (`installed`)."""

    def __init__(self, directory: Path, upgrade: Upgrade) -> None:
        self._directory = directory
        self._upgrade = upgrade
        self._templates: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()
        self.enabled = True

    def upgrade(self, migrations_dir: Path | None, url: str, revision: str = HEADS) -> None:
        if not self.enabled or revision != HEADS:
            self._upgrade(migrations_dir, url, revision)
        elif url.startswith("sqlite"):
            self._sqlite(migrations_dir, url)
        elif url.startswith("postgresql"):
            self._postgres(migrations_dir, url)
        else:
            self._upgrade(migrations_dir, url, revision)

    def _template(self, migrations_dir: Path | None, where: str, make: Callable[[str], str]) -> str:
        """The template of these migrations on this server (made once: `make(name)` migrates one and says where)."""
        key = (where, _digest(migrations_dir))
        with self._lock:
            found = self._templates.get(key)
            if found is None:
                found = self._templates[key] = make(f"tpl_{key[1]}_{uuid.uuid4().hex[:6]}")
            return found

    def _sqlite(self, migrations_dir: Path | None, url: str) -> None:
        target = _sqlite_path(url)
        if target is None or not _sqlite_empty(target):
            self._upgrade(migrations_dir, url, HEADS)
            return

        def make(name: str) -> str:
            path = self._directory / f"{name}.db"
            self._directory.mkdir(parents=True, exist_ok=True)
            self._upgrade(migrations_dir, f"sqlite+aiosqlite:///{path}", HEADS)
            return str(path)

        template = self._template(migrations_dir, "sqlite", make)
        target.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(template)) as source, closing(sqlite3.connect(target)) as copy:
            source.backup(copy)

    def _postgres(self, migrations_dir: Path | None, url: str) -> None:
        name = urlsplit(url).path.lstrip("/")
        server = _with_database(url, "postgres")
        if not _run_coroutine(_postgres_empty(_asyncpg_dsn(url), name)):
            self._upgrade(migrations_dir, url, HEADS)
            return

        def make(template: str) -> str:
            self._upgrade(migrations_dir, create_database(server, template), HEADS)
            return template

        template = self._template(migrations_dir, urlsplit(url).netloc, make)
        if not _run_coroutine(_replaced(_asyncpg_dsn(server), name, template)):
            self._upgrade(migrations_dir, url, HEADS)  # someone connected in between: it stays, and is migrated


@contextmanager
def installed(directory: Path) -> Iterator[MigratedTemplates]:
    """`migrations.upgrade` goes through the templates until the block ends."""
    real = migrations.upgrade
    templates = MigratedTemplates(directory, real)
    migrations.upgrade = templates.upgrade
    try:
        yield templates
    finally:
        migrations.upgrade = real


def _digest(migrations_dir: Path | None) -> str:
    """What the template is of: every revision file of the service's migrations and of the messaging branch."""
    digest = hashlib.sha256()
    directories = [migrations.MESSAGING_VERSIONS, *([] if migrations_dir is None else [migrations_dir / "versions"])]
    for directory in directories:
        for path in sorted(directory.rglob("*.py")):
            digest.update(str(path).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _sqlite_path(url: str) -> Path | None:
    path = url.split("///", 1)[-1]
    return None if not path or path == ":memory:" or "?" in path else Path(path)


def _sqlite_empty(path: Path) -> bool:
    if not path.exists():
        return True
    with closing(sqlite3.connect(path)) as conn:
        return bool(conn.execute("SELECT count(*) = 0 FROM sqlite_master").fetchone()[0])


async def _postgres_empty(dsn: str, name: str) -> bool:
    """No table in it, and no one but this check connected to it (a copy replaces the database)."""
    conn = await _asyncpg().connect(dsn, timeout=30)
    try:
        tables = await conn.fetchval(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'"
        )
        others = await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", name
        )
        return bool(tables == 0 and others == 0)
    finally:
        await conn.close()


async def _replaced(dsn: str, name: str, template: str) -> bool:
    """Database `name` dropped and made again as a copy of `template`; False (and left as it was) when someone is
    connected to it."""
    asyncpg = _asyncpg()
    conn = await asyncpg.connect(dsn, timeout=30)
    try:
        try:
            await conn.execute(f'DROP DATABASE "{name}"')
        except asyncpg.ObjectInUseError:
            return False
        await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return True
    finally:
        await conn.close()


def _asyncpg() -> Any:
    return importlib.import_module("asyncpg")
