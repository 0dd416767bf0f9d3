"""Alembic per service, on SQLite and PostgreSQL alike.

Every service's migrations use one environment, `alembic_env/` beside this module: a service carries
only its `migrations/versions/`. The messaging tables (outbox, inbox) are the runtime's own branch
(`alembic_env/messaging/`, label "messaging"); a service's first revision depends on its first
revision, and later changes to those tables reach every service through that branch.

    python -m prasmes_runtime.migrations revision <service> -m "what changes"   # autogenerate a revision
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from alembic import command, context
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from prasmes_runtime.db import ENGINE_OPTIONS, undeclared
from prasmes_runtime.messaging import messaging_metadata

ENVIRONMENT = Path(__file__).with_name("alembic_env")
MESSAGING_VERSIONS = ENVIRONMENT / "messaging"
_MIGRATION_LOCK_ID = 0x7072617367726174  # one migration per PostgreSQL database at a time


def alembic_config(migrations_dir: Path | None, url: str, metadata: MetaData | None = None) -> Config:
    """A service's Alembic configuration: its own versions (if it has tables) and the messaging branch."""
    config = Config()
    config.set_main_option("script_location", str(ENVIRONMENT))
    config.set_main_option("path_separator", "os")
    locations = [MESSAGING_VERSIONS] if migrations_dir is None else [migrations_dir / "versions", MESSAGING_VERSIONS]
    config.set_main_option("version_locations", ":".join(str(location) for location in locations))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["target_metadata"] = metadata
    return config


def upgrade(migrations_dir: Path | None, url: str, revision: str = "heads") -> None:
    """Blocking; call through asyncio.to_thread from async code."""
    command.upgrade(alembic_config(migrations_dir, url), revision)


def downgrade(migrations_dir: Path | None, url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(migrations_dir, url), revision)


def declared_only(*metadatas: MetaData | None) -> Callable[[str | None, str, Any], bool]:
    """Alembic's `include_name`: every object but those the metadata names as undeclared (`db.UNDECLARED`)."""
    skipped = undeclared(*metadatas)
    return lambda name, _type, _parents: name not in skipped


def run_env(metadata: MetaData | None) -> None:
    """The body of the shared env.py (online mode, async engine)."""
    url = context.config.get_main_option("sqlalchemy.url")
    assert url, "sqlalchemy.url must be set"
    targets = [messaging_metadata] if metadata is None else [metadata, messaging_metadata]

    def migrate(connection: Connection) -> None:
        context.configure(
            connection=connection,
            target_metadata=targets,
            render_as_batch=True,
            include_name=declared_only(*targets),
        )
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                # Replicas of a worker start together: one migrates, the others wait here and then find the head.
                connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _MIGRATION_LOCK_ID})
            context.run_migrations()

    async def run() -> None:
        engine = create_async_engine(url, poolclass=pool.NullPool, **ENGINE_OPTIONS)
        async with engine.connect() as connection:
            await connection.run_sync(migrate)
        await engine.dispose()

    asyncio.run(run())


def _revision(service: str, message: str, url: str) -> None:
    """Autogenerate the service's next revision against a database migrated to its head."""
    definition = importlib.import_module(f"{service}.app").DEFINITION
    metadata: MetaData = importlib.import_module(f"{service}.db").metadata
    upgrade(definition.migrations_dir, url)
    config = alembic_config(definition.migrations_dir, url, metadata)
    own_heads = [
        head
        for head in ScriptDirectory.from_config(config).get_heads()
        if Path(ScriptDirectory.from_config(config).get_revision(head).path).parent != MESSAGING_VERSIONS
    ]
    command.revision(
        config,
        message=message,
        autogenerate=True,
        head=own_heads[0],
        version_path=str(definition.migrations_dir / "versions"),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    revision = commands.add_parser("revision", help="autogenerate a service's next revision")
    revision.add_argument("service")
    revision.add_argument("-m", "--message", required=True)
    revision.add_argument("--database-url", default="sqlite+aiosqlite:///var/migration-scratch.db")
    args = parser.parse_args()
    _revision(args.service, args.message, args.database_url)


if __name__ == "__main__":
    main()
