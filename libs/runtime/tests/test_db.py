"""The database layer behaves the same on SQLite and PostgreSQL."""

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from prasmes_runtime.db import Database, UtcDateTime, insert_new

metadata = sa.MetaData()
moments = sa.Table("moments", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("at", UtcDateTime()))
RIGA_SUMMER = timezone(timedelta(hours=3))


@pytest.mark.postgres
async def test_instants_come_back_aware_and_in_utc(database_url: str) -> None:
    database = Database(database_url)
    try:
        async with database.engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        written = datetime(2025, 10, 10, 23, 59, tzinfo=RIGA_SUMMER)
        async with database.transaction() as session:
            await session.execute(moments.insert().values(id=1, at=written))
        async with database.session() as session:
            read = await session.scalar(sa.select(moments.c.at))
        assert read == written and read.utcoffset() == timedelta(0)
        with pytest.raises(sa.exc.StatementError, match="naive datetime"):
            async with database.transaction() as session:
                await session.execute(moments.insert().values(id=2, at=datetime(2025, 1, 1)))
    finally:
        await database.dispose()


async def test_readers_do_not_wait_for_a_writer_on_sqlite(sqlite_url: str) -> None:
    database = Database(sqlite_url)
    try:
        async with database.engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        async with database.transaction() as writing:
            await writing.execute(moments.insert().values(id=1, at=datetime(2025, 1, 1, tzinfo=RIGA_SUMMER)))
            async with database.session() as reading:  # would block for the busy timeout behind BEGIN IMMEDIATE
                assert await reading.scalar(sa.select(sa.func.count()).select_from(moments)) == 0
    finally:
        await database.dispose()


@pytest.mark.postgres
async def test_insert_new_says_whether_the_key_was_new_and_keeps_the_first_row(database_url: str) -> None:
    database = Database(database_url)
    first = datetime(2025, 10, 10, 23, 59, tzinfo=RIGA_SUMMER)
    try:
        async with database.engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        async with database.transaction() as session:
            assert await insert_new(session, moments, {"id": 1, "at": first})
            assert not await insert_new(session, moments, {"id": 1, "at": first + timedelta(days=1)})
            assert await insert_new(session, moments, {"id": 2, "at": first})
        async with database.session() as session:
            rows = (await session.execute(sa.select(moments).order_by(moments.c.id))).all()
        assert [(row.id, row.at) for row in rows] == [(1, first), (2, first)]
    finally:
        await database.dispose()
