"""Alembic per service, on SQLite and PostgreSQL alike.

A service's `migrations/env.py` is one call: `run_env(metadata)`. Its first revision creates the
messaging tables with `create_messaging_tables()`; the service's own tables follow.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command, context, op
from alembic.config import Config
from sqlalchemy import MetaData, pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from prasmes_runtime.messaging import messaging_metadata


def alembic_config(migrations_dir: Path, url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(migrations_dir: Path, url: str, revision: str = "head") -> None:
    """Blocking; call through asyncio.to_thread from async code."""
    command.upgrade(alembic_config(migrations_dir, url), revision)


def downgrade(migrations_dir: Path, url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(migrations_dir, url), revision)


def run_env(metadata: MetaData) -> None:
    """The body of every service's env.py (online mode, async engine)."""
    url = context.config.get_main_option("sqlalchemy.url")
    assert url, "sqlalchemy.url must be set"

    def migrate(connection: Connection) -> None:
        context.configure(connection=connection, target_metadata=[metadata, messaging_metadata], render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()

    async def run() -> None:
        engine = create_async_engine(url, poolclass=pool.NullPool)
        async with engine.connect() as connection:
            await connection.run_sync(migrate)
        await engine.dispose()

    asyncio.run(run())


def create_messaging_tables() -> None:
    """Create the outbox and inbox as messaging.py defines them. A later change to those tables
    gets a migration of its own; this one is only ever called from a service's first revision."""
    for table in messaging_metadata.sorted_tables:
        op.create_table(table.name, *(column._copy() for column in table.columns))
        for index in table.indexes:
            op.create_index(index.name or "", table.name, [c.name for c in index.columns])


def drop_messaging_tables() -> None:
    for table in reversed(messaging_metadata.sorted_tables):
        for index in table.indexes:
            op.drop_index(index.name or "", table_name=table.name)
        op.drop_table(table.name)
