"""Every service's migrations run up and down on SQLite and PostgreSQL, and match its tables."""

import asyncio
import importlib
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from prasmes_runtime import migrations, registry
from prasmes_runtime.db import undeclared
from prasmes_runtime.messaging import messaging_metadata
from prasmes_runtime.service import ServiceDefinition
from sqlalchemy.ext.asyncio import create_async_engine

SERVICES: list[ServiceDefinition] = [
    importlib.import_module(f"{entry.package}.app").DEFINITION for entry in registry.SERVICES if entry.backend
]


def _metadata(definition: ServiceDefinition) -> sa.MetaData:
    """The service's own tables (none for a service that has only the outbox and inbox)."""
    if definition.migrations_dir is None:
        return sa.MetaData()
    module = importlib.import_module(f"{registry.entry(definition.name).package}.db")
    metadata: sa.MetaData = module.metadata
    return metadata


async def _tables_and_diff(url: str, metadata: sa.MetaData) -> tuple[set[str], list[object]]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:

            def inspect(sync_conn: sa.Connection) -> tuple[set[str], list[object]]:
                names = set(sa.inspect(sync_conn).get_table_names()) - {"alembic_version"} - undeclared(metadata)
                only_declared = {"include_name": migrations.declared_only(metadata)}
                context = MigrationContext.configure(sync_conn, opts=only_declared)
                return names, list(compare_metadata(context, [metadata, messaging_metadata]))

            return await conn.run_sync(inspect)
    finally:
        await engine.dispose()


@pytest.mark.postgres
@pytest.mark.real_migrations
@pytest.mark.parametrize("definition", SERVICES, ids=[s.name for s in SERVICES])
async def test_migrations_up_and_down(definition: ServiceDefinition, database_url: str) -> None:
    metadata = _metadata(definition)
    await asyncio.to_thread(migrations.upgrade, definition.migrations_dir, database_url)
    tables, diff = await _tables_and_diff(database_url, metadata)
    assert tables == set(metadata.tables) | {"outbox", "inbox"}
    assert diff == [], f"the migrations and the table definitions disagree: {diff}"
    await asyncio.to_thread(migrations.downgrade, definition.migrations_dir, database_url)
    assert (await _tables_and_diff(database_url, metadata))[0] == set()
    await asyncio.to_thread(migrations.upgrade, definition.migrations_dir, database_url)  # and up again
    assert (await _tables_and_diff(database_url, metadata))[0] == set(metadata.tables) | {"outbox", "inbox"}


def test_every_service_has_its_migrations() -> None:
    assert {d.name for d in SERVICES} == set(registry.BACKENDS)
    for definition in SERVICES:
        if definition.migrations_dir is None:
            continue  # only the outbox and inbox: the runtime's messaging branch
        assert isinstance(definition.migrations_dir, Path)
        assert not (definition.migrations_dir / "env.py").exists(), "the environment is the runtime's, not copied"
        assert list((definition.migrations_dir / "versions").glob("0001_*.py"))
