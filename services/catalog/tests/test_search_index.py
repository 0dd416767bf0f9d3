"""The public catalogue's word search answers from the index revision 0005 built for it (PostgreSQL: a pg_trgm GIN
index on the folded search text; SQLite: an FTS5 trigram table kept in step by triggers), with the results a scan
gave: every query word a substring of the folded text, diacritics and case ignored."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa
from catalog.app import DEFINITION
from catalog.db import catalogue as catalogue_db
from catalog.db import programmes as programmes_db
from catalog.db.providers import institutions, locations
from catalog.domain.catalogue import CatalogueQuery
from catalog.domain.common import search_key
from catalog.domain.programmes import (
    Cost,
    OperatingSystem,
    Programme,
    ProgrammeForm,
    ProgrammeInput,
    ProgrammeStatus,
    ProgrammeType,
)
from prasmes_runtime import migrations
from prasmes_runtime.db import Database
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
TODAY = date(2026, 1, 5)
TITLES = [
    "Datu analīze iesācējiem",
    "Datorsistēmu administrēšana",
    "Kiberdrošības pamati",
    "Programmēšana ar Python",
    "AI rīki birojā",
    "Tīmekļa izstrāde_praktikums",
    "Mākoņpakalpojumi un Łódź",
]
SEARCHES = ["datu analize", "DATU ANALĪZE", "sistemu", "drosiba", "python kiber", "ai", "e_p", "łódź", "kvantu", ""]


def _programme(institution_id: uuid.UUID, location_id: uuid.UUID, title: str, n: int) -> Programme:
    spec = ProgrammeInput(
        title={"lv": title, "en": f"Programme {n}"},
        licence_number=f"P-{n:04d}",
        licence_date=date(2023, 1, 1),
        thematic_area="Informācijas un komunikācijas tehnoloģijas",
        programme_group="IKT",
        programme_type=ProgrammeType.PROFESSIONAL_DEVELOPMENT,
        form=ProgrammeForm.IN_PERSON,
        digcomp_level=4,
        total_hours=40,
        theory_hours=16,
        practice_hours=24,
        digital_share_percent=Decimal(80),
        qualifications=("datu_analitikis",),
        professional_competences=(),
        learning_outcomes=(),
        description=f"Apraksts {n}",
        language="lv",
        entry_level=2,
        prior_knowledge="",
        equipment="",
        operating_systems=(OperatingSystem.LINUX,),
        location_ids=(location_id,),
        curriculum_document_id=uuid.uuid4(),
    )
    cost = Cost(Decimal("80.00"), Decimal("2.00"), Decimal("1.56"), Decimal("1.28"), 1)
    return Programme(uuid.uuid4(), institution_id, spec, cost, ProgrammeStatus.PUBLISHED, T0, "liga", published_at=T0)


async def _institution(engine: AsyncEngine) -> tuple[uuid.UUID, uuid.UUID]:
    institution_id, location_id = uuid.uuid4(), uuid.uuid4()
    async with engine.begin() as conn:
        await conn.execute(
            institutions.insert().values(
                id=institution_id,
                name="Mācību centrs",
                register_number="3360800001",
                legal_address="Rīga",
                admin_name="Admin",
                admin_email="admin@example.lv",
                registered_by="liga",
                registered_at=T0,
                statement_document_id=uuid.uuid4(),
                status="approved",
            )
        )
        await conn.execute(
            locations.insert().values(
                id=location_id,
                institution_id=institution_id,
                address="Brīvības iela 1, Rīga",
                city="Rīga",
                viis_id="VIIS-1",
                created_at=T0,
            )
        )
    return institution_id, location_id


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    await asyncio.to_thread(migrations.upgrade, DEFINITION.migrations_dir, database_url)
    database = Database(database_url)
    yield database
    await database.dispose()


PROGRAMMES_0006 = sa.table(
    "programmes", *(sa.column(c.name, c.type) for c in programmes_db.programmes.c if c.name != "language")
)
"""`programmes` as revisions 0004 to 0006 left it: without the language revision 0007 added."""


async def insert_before_0007(session: AsyncSession, programme: Programme, search_text: str) -> None:
    """A programme (its row and its form) as the use case wrote it before revision 0007."""
    values = programmes_db.programme_values(programme, search_text)
    del values["language"]
    await session.execute(PROGRAMMES_0006.insert().values(**values))
    spec = programmes_db.spec_json(programme.spec)
    await session.execute(programmes_db.programme_specs.insert().values(programme_id=programme.id, spec=spec))


Insert = Callable[[AsyncSession, Programme, str], Awaitable[None]]


async def _published(database: Database, insert: Insert = programmes_db.insert_programme) -> dict[uuid.UUID, str]:
    """The programmes, inserted as the use case inserts them (their search text is the title here)."""
    institution_id, location_id = await _institution(database.engine)
    texts: dict[uuid.UUID, str] = {}
    async with database.transaction() as session:
        for n, title in enumerate(TITLES):
            programme = _programme(institution_id, location_id, title, n)
            await insert(session, programme, search_key(title))
            texts[programme.id] = search_key(title)
    return texts


async def _search(database: Database, text: str) -> list[uuid.UUID]:
    async with database.session() as session:
        found, total = await catalogue_db.search_programmes(session, CatalogueQuery(text=text, limit=200), TODAY)
    assert total == len(found)
    return [p.id for p, _ in found]


def _scanned(texts: dict[uuid.UUID, str], text: str) -> list[uuid.UUID]:
    """What a scan answers: the programmes whose text holds every word, by title."""
    words = CatalogueQuery(text=text).words
    return [pid for pid, t in sorted(texts.items(), key=lambda kv: (kv[1], kv[0])) if all(w in t for w in words)]


# --------------------------------------------------------------------------- results


async def test_the_index_finds_what_a_scan_found(database: Database) -> None:
    texts = await _published(database)
    for text in SEARCHES:
        assert await _search(database, text) == _scanned(texts, text), text
    assert len(await _search(database, "datu analize")) == 1
    assert len(await _search(database, "sistemu")) == 1  # inside a word, not only its start
    assert len(await _search(database, "ai")) == 1  # shorter than a trigram: matched on the rows
    assert await _search(database, "kvantu") == []


# --------------------------------------------------------------------------- the plan


async def _plans(database: Database, text: str) -> list[str]:
    """The plans of the statements the search runs for `text` (captured as sent, explained with their parameters).
    On PostgreSQL sequential scans are discouraged: a table this small would rightly be scanned, and what matters
    is whether the index can answer the query at all."""
    sent: list[tuple[str, object]] = []

    def capture(_conn: object, _cursor: object, statement: str, parameters: object, *_: object) -> None:
        if " LIKE " in statement or " MATCH " in statement:  # the statements that match the words
            sent.append((statement, parameters))

    sa.event.listen(database.engine.sync_engine, "before_cursor_execute", capture)
    try:
        await _search(database, text)
    finally:
        sa.event.remove(database.engine.sync_engine, "before_cursor_execute", capture)
    assert sent
    explain = "EXPLAIN " if database.is_postgres else "EXPLAIN QUERY PLAN "
    plans = []
    async with database.engine.connect() as conn:
        if database.is_postgres:
            await conn.exec_driver_sql("SET enable_seqscan = off")
        for statement, parameters in sent:
            rows = (await conn.exec_driver_sql(explain + statement, parameters)).all()  # type: ignore[arg-type]
            plans.append("\n".join(str(row[-1]) for row in rows))
    return plans


async def test_the_word_search_is_answered_by_the_index(database: Database) -> None:
    await _published(database)
    plans = await _plans(database, "Datu analīze")
    for plan in plans:
        if database.is_postgres:
            assert "ix_programmes_search_trgm" in plan, plan
        else:
            assert "SCAN programme_search VIRTUAL TABLE" in plan, plan
            assert "SCAN programmes" not in plan, plan


# --------------------------------------------------------------------------- in step with the programmes


async def _index_rows(database: Database) -> dict[uuid.UUID, str]:
    """SQLite: the FTS table's rows (the triggers' work). PostgreSQL keeps its GIN index itself: the programmes'
    texts, once the index is there, valid and ready."""
    async with database.engine.connect() as conn:
        if database.is_postgres:
            usable = "SELECT indisvalid AND indisready FROM pg_index WHERE indexrelid = '{}'::regclass"
            usable = usable.format("ix_programmes_search_trgm")
            assert (await conn.exec_driver_sql(usable)).scalar_one() is True
            rows = await conn.exec_driver_sql("SELECT id, search_text FROM programmes")
            return {r[0]: r[1] for r in rows}
        rows = await conn.exec_driver_sql("SELECT programme_id, search_text FROM programme_search")
        return {uuid.UUID(r[0]): r[1] for r in rows}


async def test_the_index_stays_in_step_with_the_programmes(database: Database) -> None:
    texts = await _published(database)
    assert await _index_rows(database) == texts
    changed, gone = list(texts)[:2]
    programmes = programmes_db.programmes
    async with database.transaction() as session:
        await session.execute(programmes.update().where(programmes.c.id == changed).values(search_text="kvantu fizika"))
        await session.execute(
            programmes.update().where(programmes.c.id == gone).values(status=ProgrammeStatus.WITHDRAWN.value)
        )
    assert await _search(database, "kvantu") == [changed]
    assert await _search(database, "datu analize") == []  # its text changed
    assert gone not in await _search(database, "")  # withdrawn: the index has it, the search does not show it
    assert await _index_rows(database) == {**texts, changed: "kvantu fizika"}

    async with database.transaction() as session:
        for table in (programmes_db.programme_locations, programmes_db.programme_qualifications):
            await session.execute(table.delete().where(table.c.programme_id == changed))
        await session.execute(
            programmes_db.programme_specs.delete().where(programmes_db.programme_specs.c.programme_id == changed)
        )
        await session.execute(programmes.delete().where(programmes.c.id == changed))
    assert await _search(database, "kvantu") == []
    assert changed not in await _index_rows(database)


# --------------------------------------------------------------------------- the migration


SQLITE_OBJECTS = {"programme_search", *(f"programme_search_{t}" for t in ("insert", "update", "delete"))}


async def _index_objects(engine: AsyncEngine) -> set[str]:
    """What revision 0005 made, as the database lists it: PostgreSQL's index; SQLite's FTS table and triggers."""
    async with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            rows = await conn.exec_driver_sql("SELECT indexname FROM pg_indexes WHERE tablename = 'programmes'")
            return {r[0] for r in rows} & catalogue_db.SEARCH_INDEX
        made = "SELECT name FROM sqlite_master WHERE type = 'trigger' OR sql LIKE 'CREATE VIRTUAL TABLE%'"
        return {r[0] for r in await conn.exec_driver_sql(made)}


async def _title_index(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as conn:
        indexes = await conn.run_sync(lambda c: sa.inspect(c).get_indexes("programmes"))
    (index,) = [i for i in indexes if i["name"] == "ix_programmes_status_title"]
    return [str(c) for c in index["column_names"]]


async def test_the_migration_builds_the_index_from_what_is_there_and_goes_down(database_url: str) -> None:
    directory = DEFINITION.migrations_dir
    await asyncio.to_thread(migrations.upgrade, directory, database_url, "0004")
    engine = create_async_engine(database_url)
    try:
        database = Database(database_url)
        texts = await _published(database, insert_before_0007)  # rows written before the index exists
        await asyncio.to_thread(migrations.upgrade, directory, database_url)
        expected = {"ix_programmes_search_trgm"} if database.is_postgres else SQLITE_OBJECTS
        assert await _index_objects(engine) == expected
        assert await _index_rows(database) == texts
        assert await _search(database, "python") == _scanned(texts, "python") != []
        assert await _title_index(engine) == ["status", "title_key", "id"]

        await asyncio.to_thread(migrations.downgrade, directory, database_url, "0004")
        assert await _index_objects(engine) == set()
        assert await _title_index(engine) == ["status", "title_key"]
        async with engine.connect() as conn:
            assert (await conn.scalar(sa.select(sa.func.count()).select_from(programmes_db.programmes))) == len(texts)

        await asyncio.to_thread(migrations.upgrade, directory, database_url)  # and up again
        assert await _index_rows(database) == texts
        await database.dispose()
    finally:
        await engine.dispose()
