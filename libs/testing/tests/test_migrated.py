"""The suite's migrated templates: an empty database upgraded to the heads becomes a copy of what the migrations make,
on SQLite and PostgreSQL; everything else runs the migrations."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from accounts.app import DEFINITION
from prasmes_runtime import migrations
from prasmes_testing.migrated import MigratedTemplates
from prasmes_testing.servers import create_database
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import create_async_engine


class Counted:
    """The real upgrade, counting the runs."""

    def __init__(self) -> None:
        self.runs: list[tuple[str, str]] = []

    def __call__(self, migrations_dir: Path | None, url: str, revision: str = "heads") -> None:
        self.runs.append((url, revision))
        _real_upgrade(migrations_dir, url, revision)


def _real_upgrade(migrations_dir: Path | None, url: str, revision: str) -> None:
    from alembic import command

    command.upgrade(migrations.alembic_config(migrations_dir, url), revision)


async def _contents(url: str) -> dict[str, Any]:
    """Every table's columns, indexes and rows (the migrations seed some: the funding projects)."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:

            def read(sync: Any) -> dict[str, Any]:
                found = inspect(sync)
                tables = sorted(found.get_table_names())
                return {
                    name: (
                        [(c["name"], str(c["type"]), c["nullable"]) for c in found.get_columns(name)],
                        sorted(_plain(i) for i in found.get_indexes(name)),
                        sorted(map(repr, sync.execute(text(f'SELECT * FROM "{name}"')).all())),
                    )
                    for name in tables
                }

            return await conn.run_sync(read)
    finally:
        await engine.dispose()


def _plain(index: Any) -> str:
    """An index as text, its options' SQL included (a partial index's WHERE is a clause object)."""
    options = {key: str(value) for key, value in index.get("dialect_options", {}).items()}
    return str(sorted({**index, "dialect_options": options}.items()))


@pytest.fixture
def counted() -> Counted:
    return Counted()


@pytest.fixture
def templates(tmp_path: Path, counted: Counted) -> MigratedTemplates:
    return MigratedTemplates(tmp_path / "templates", counted)


def _sqlite(tmp_path: Path, name: str) -> str:
    (tmp_path / name).mkdir()
    return f"sqlite+aiosqlite:///{tmp_path / name / 'service.db'}"


async def test_an_empty_sqlite_database_becomes_a_copy_of_what_the_migrations_make(
    tmp_path: Path, templates: MigratedTemplates, counted: Counted
) -> None:
    real = _sqlite(tmp_path, "real")
    await asyncio.to_thread(_real_upgrade, DEFINITION.migrations_dir, real, "heads")
    first, second = _sqlite(tmp_path, "first"), _sqlite(tmp_path, "second")
    await asyncio.to_thread(templates.upgrade, DEFINITION.migrations_dir, first)
    await asyncio.to_thread(templates.upgrade, DEFINITION.migrations_dir, second)
    assert len(counted.runs) == 1 and "tpl_" in counted.runs[0][0]  # the template's, then copies
    expected = await _contents(real)
    assert "funding_projects" in expected and expected["funding_projects"][2]  # seeded rows are copied too
    assert await _contents(first) == expected and await _contents(second) == expected


async def test_a_database_not_empty_or_another_revision_runs_the_migrations(
    tmp_path: Path, templates: MigratedTemplates, counted: Counted
) -> None:
    stepwise = _sqlite(tmp_path, "stepwise")
    await asyncio.to_thread(templates.upgrade, DEFINITION.migrations_dir, stepwise, "0003")
    await asyncio.to_thread(templates.upgrade, DEFINITION.migrations_dir, stepwise)  # at 0003: not empty
    assert [revision for _, revision in counted.runs] == ["0003", "heads"]
    assert all("tpl_" not in url for url, _ in counted.runs)
    templates.enabled = False  # as for a test marked real_migrations
    off = _sqlite(tmp_path, "off")
    await asyncio.to_thread(templates.upgrade, DEFINITION.migrations_dir, off)
    assert counted.runs[-1] == (off, "heads")
    assert await _contents(off) == await _contents(stepwise)


@pytest.mark.postgres
async def test_an_empty_postgres_database_becomes_a_copy_and_a_connected_one_is_migrated(
    postgres_server_url: str, templates: MigratedTemplates, counted: Counted
) -> None:
    real, first, held = (create_database(postgres_server_url, f"m_{n}_{id(counted)}") for n in ("r", "f", "h"))
    await asyncio.to_thread(_real_upgrade, DEFINITION.migrations_dir, real, "heads")
    await asyncio.to_thread(templates.upgrade, DEFINITION.migrations_dir, first)
    assert len(counted.runs) == 1 and "tpl_" in counted.runs[0][0]
    expected = await _contents(real)
    assert await _contents(first) == expected

    engine = create_async_engine(held)
    try:
        async with engine.connect() as conn:  # someone holds it: it is migrated where it is, not replaced
            await conn.execute(text("SELECT 1"))
            await asyncio.to_thread(templates.upgrade, DEFINITION.migrations_dir, held)
            assert counted.runs[-1] == (held, "heads")
    finally:
        await engine.dispose()
    assert await _contents(held) == expected


def test_the_suite_upgrades_through_the_templates_unless_a_test_is_marked(
    migrated_templates: MigratedTemplates,
) -> None:
    assert migrations.upgrade == migrated_templates.upgrade and migrated_templates.enabled


@pytest.mark.real_migrations
def test_a_marked_test_runs_the_migrations(
    migrated_templates: MigratedTemplates, counted: Counted, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(migrated_templates, "_upgrade", counted)
    url = _sqlite(tmp_path, "marked")
    migrations.upgrade(DEFINITION.migrations_dir, url)
    assert counted.runs == [(url, "heads")]
    with closing(sqlite3.connect(url.split("///", 1)[1])) as conn:
        assert conn.execute("SELECT count(*) FROM alembic_version").fetchone()[0] >= 1
