"""The public search by funding project (the projects of the calls whose signed agreements publish a programme,
known from calls' CallOpened, whichever arrives first) and by language of instruction, over HTTP on both
databases."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from catalog.app import DEFINITION
from catalog.db import catalogue as catalogue_db
from catalog.db import programmes as programmes_db
from catalog.domain.catalogue import CatalogueQuery
from catalog.domain.common import search_key
from prasmes_contracts.calls import CallOpened, CooperationAgreementEnded
from prasmes_runtime import migrations
from prasmes_runtime.db import Database
from prasmes_testing.support import eventually
from sqlalchemy.ext.asyncio import AsyncEngine

from .conftest import API, NOW, Catalog, refusal
from .test_search_index import SQLITE_OBJECTS, TODAY, _index_objects, _institution, _programme, insert_before_0007

SEARCH = f"{API}/public/programmes"


def own_text(description: str, qualification: str, skill: str) -> dict[str, Any]:
    """A programme's words of its own: the sample form's (Python, SQL, data) would match every programme."""
    return {
        "description": description,
        "qualifications": [qualification],
        "professional_competences": [skill],
        "learning_outcomes": [skill],
    }


def call_opened(call_id: uuid.UUID, project_code: str) -> CallOpened:
    """Calls' announcement of a call of the project (its timeline matters not to catalog)."""
    return CallOpened(
        call_id=call_id,
        at=datetime(2025, 9, 1, 9, 0, tzinfo=UTC),
        code=f"{project_code}-4",
        title={"lv": f"{project_code} 4. uzaicinājums", "en": f"{project_code} call 4"},
        project_code=project_code,
        applications_open_on=date(2025, 9, 1),
        applications_close_on=date(2025, 9, 19),
        offers_open_at=datetime(2025, 9, 22, 6, 0, tzinfo=UTC),
        offers_deadline_at=datetime(2025, 10, 10, 20, 59, tzinfo=UTC),
        evaluation_ends_on=date(2025, 11, 7),
        decision_on=date(2025, 11, 8),
        agreements_from=date(2025, 11, 10),
        publication_from=date(2025, 11, 10),
        delivery_ends_on=date(2026, 4, 30),
        max_programmes_per_institution=3,
        phase="announced",
    )


async def search(catalog: Catalog, **params: Any) -> dict[str, Any]:
    response = await catalog.client.get(SEARCH, params=params)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


async def ids(catalog: Catalog, **params: Any) -> list[str]:
    return [item["id"] for item in (await search(catalog, **params))["items"]]


async def settled(catalog: Catalog, expected: list[str], **params: Any) -> None:
    """The search answers `expected` once the consumer has taken the events (topics keep no order between them)."""

    async def found() -> bool:
        return await ids(catalog, **params) == expected

    await eventually(found, timeout=20, interval=0.05)


async def funding_projects(catalog: Catalog, programme_id: str) -> list[str]:
    page = await catalog.client.get(f"{API}/public/programmes/{programme_id}")
    assert page.status_code == 200, page.text
    projects: list[str] = page.json()["funding_projects"]
    return projects


async def end(catalog: Catalog, institution_id: str, offer_id: str, *programme_ids: str) -> None:
    ended = CooperationAgreementEnded(
        offer_id=uuid.UUID(offer_id),
        call_id=uuid.uuid4(),
        institution_id=uuid.UUID(institution_id),
        programme_ids=[uuid.UUID(p) for p in programme_ids],
        at=NOW,
    )
    await catalog.publish(ended)


@dataclass
class Shelf:
    """Four programmes of two institutions (by title: networks, data, SQL, cyber), each taught in a language; the
    word "python" is in the first two (the sample form's description), not in the others."""

    liga: str
    karlis: str
    data: str  # lv, "Datu analīze ar Python"
    sql: str  # lv, "Datu bāzes un SQL" (Kārlis's institution)
    networks: str  # ru, "Datortīklu administrēšana"
    cyber: str  # en, "Kiberdrošības pamati"


async def shelf(catalog: Catalog) -> Shelf:
    liga = await catalog.approved_institution("liga")
    karlis = await catalog.approved_institution("karlis", "3360800005")
    riga = await catalog.location("liga", liga, "Brīvības iela 100, Rīga, LV-1001")
    cesis = await catalog.location("karlis", karlis, "Raiņa iela 12, Cēsis, LV-4101")

    async def registered(who: str, institution: str, location: str, **changes: Any) -> str:
        response = await catalog.programme(who, institution, [location], **changes)
        assert response.status_code == 201, response.text
        programme_id: str = response.json()["id"]
        return programme_id

    data = await registered("liga", liga, riga)
    networks = await registered(
        "liga",
        liga,
        riga,
        title={"lv": "Datortīklu administrēšana", "en": "Network administration"},
        licence_number="P-3003",
        licence_date="2021-02-15",
        theory_hours=60,
        practice_hours=100,
        language="ru",
        **own_text("Tīklu protokoli, maršrutēšana un uzraudzība.", "datortiklu_administrators", "Konfigurē tīklus"),
    )
    cyber = await registered(
        "liga",
        liga,
        riga,
        title={"lv": "Kiberdrošības pamati", "en": "Cybersecurity basics"},
        licence_number="P-2001",
        licence_date="2022-09-01",
        total_hours=120,
        theory_hours=40,
        practice_hours=80,
        language="en",
        **own_text("Draudi, ievainojamības un incidentu pārvaldība.", "kiberdrosibas_tehnikis", "Novērtē riskus"),
    )
    sql = await registered(
        "karlis",
        karlis,
        cesis,
        title={"lv": "Datu bāzes un SQL", "en": "Databases and SQL"},
        licence_number="P-5005",
        licence_date="2022-01-17",
        theory_hours=70,
        practice_hours=90,
    )
    return Shelf(liga, karlis, data, sql, networks, cyber)


# --------------------------------------------------------------------------- by funding project


async def test_the_search_finds_the_programmes_of_a_funding_project(catalog: Catalog) -> None:
    s = await shelf(catalog)
    imk, varam, f4242 = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    for call_id, project in ((imk, "IMK"), (varam, "VARAM"), (f4242, "4242")):
        await catalog.publish(call_opened(call_id, project))
    await catalog.publish_programmes(s.liga, s.data, call_id=imk)
    await catalog.publish_programmes(s.liga, s.cyber, call_id=varam)
    sql_under_imk = await catalog.publish_programmes(s.karlis, s.sql, call_id=imk)
    await catalog.publish_programmes(s.karlis, s.sql, call_id=f4242)  # a second agreement, of another project
    await catalog.publish_programmes(s.liga, s.networks)  # a call catalog never heard of

    await settled(catalog, [s.data, s.sql], project="IMK")
    await settled(catalog, [s.sql, s.cyber], project=["VARAM", "4242"])
    both = await search(catalog, project=["IMK", "4242"])
    assert ([i["id"] for i in both["items"]], both["total"]) == ([s.data, s.sql], 2)  # each programme once
    none = await search(catalog, project="TALAK")
    assert (none["items"], none["total"]) == ([], 0)
    assert len(await ids(catalog)) == 4  # without the filter, every published programme

    assert await funding_projects(catalog, s.sql) == ["4242", "IMK"]
    assert await funding_projects(catalog, s.data) == ["IMK"]
    assert await funding_projects(catalog, s.networks) == []
    listed = {i["id"]: i["funding_projects"] for i in (await search(catalog))["items"]}
    assert listed == {s.data: ["IMK"], s.sql: ["4242", "IMK"], s.cyber: ["VARAM"], s.networks: []}

    # The IMK agreement ends: the programme stays public under 4242's, and leaves IMK's results.
    await end(catalog, s.karlis, sql_under_imk, s.sql)
    await settled(catalog, [s.data], project="IMK")
    assert await funding_projects(catalog, s.sql) == ["4242"]
    assert await ids(catalog, project="4242") == [s.sql]


async def test_an_agreement_before_its_call_is_found_by_project_once_the_call_is_known(catalog: Catalog) -> None:
    s = await shelf(catalog)
    talak = uuid.uuid4()
    offer = await catalog.publish_programmes(s.liga, s.networks, call_id=talak)
    assert (await search(catalog, project="TALAK"))["total"] == 0
    assert await funding_projects(catalog, s.networks) == []

    await catalog.publish(call_opened(talak, "TALAK"))
    await settled(catalog, [s.networks], project="TALAK")
    assert await funding_projects(catalog, s.networks) == ["TALAK"]
    await catalog.publish(call_opened(talak, "TALAK"))  # calls sending it again changes nothing
    await catalog.publish_programmes(s.liga, s.data, call_id=talak)  # a later agreement of the call
    await settled(catalog, [s.networks, s.data], project="TALAK")

    await catalog.end_agreement(s.liga, offer, s.networks)  # its only agreement: withdrawn
    page = await search(catalog, project="TALAK")
    assert ([i["id"] for i in page["items"]], page["total"]) == ([s.data], 1)


# --------------------------------------------------------------------------- by language


async def test_the_search_finds_the_programmes_taught_in_a_language(catalog: Catalog) -> None:
    s = await shelf(catalog)
    await catalog.publish_programmes(s.liga, s.data, s.networks, s.cyber)
    await catalog.publish_programmes(s.karlis, s.sql)
    assert await ids(catalog, language="en") == [s.cyber]
    assert await ids(catalog, language="lv") == [s.data, s.sql]
    assert await ids(catalog, language=["ru", "en"]) == [s.networks, s.cyber]
    nobody = await search(catalog, language="de")  # a language no programme is taught in: found nothing
    assert (nobody["items"], nobody["total"]) == ([], 0)


async def test_a_language_or_project_that_is_no_code_is_refused_naming_the_field_and_rule(catalog: Catalog) -> None:
    for language in ("LV", "english", "l", "", "lv,en"):
        assert refusal(await catalog.client.get(SEARCH, params={"language": language}))[0] == "language", language
    assert refusal(await catalog.client.get(SEARCH, params={"language": "LV"})) == ("language", "format")
    assert refusal(await catalog.client.get(SEARCH, params={"language": ""})) == ("language", "required")
    for project in ("imk", "I", "IMK 4", "", "X" * 21, "TĀLĀK"):
        assert refusal(await catalog.client.get(SEARCH, params={"project": project})) == ("project", "project_code")
    many = await catalog.client.get(SEARCH, params={"language": ["lv"] * 11})
    assert refusal(many)[0] == "language"
    both = await catalog.client.get(SEARCH, params={"language": "lv", "project": "imk", "digcomp_level": 9})
    assert {(e["field"], e["rule"]) for e in both.json()["errors"]} == {
        ("project", "project_code"),
        ("digcomp_level", "digcomp_range"),
    }
    nul = await catalog.client.get(SEARCH, params={"project": "IMK\x00"})
    assert nul.status_code == 422


# --------------------------------------------------------------------------- with the word search and paging


async def test_the_filters_combine_with_the_word_search_and_paging(catalog: Catalog) -> None:
    s = await shelf(catalog)
    imk = uuid.uuid4()
    await catalog.publish(call_opened(imk, "IMK"))
    await catalog.publish_programmes(s.liga, s.data, s.networks, s.cyber, call_id=imk)
    await catalog.publish_programmes(s.karlis, s.sql, call_id=imk)
    await settled(catalog, [s.networks, s.data, s.sql, s.cyber], project="IMK")

    assert await ids(catalog, q="python") == [s.data, s.sql]
    assert await ids(catalog, q="python", project="IMK") == [s.data, s.sql]
    assert await ids(catalog, q="python", project="VARAM") == []
    assert await ids(catalog, q="python", language="ru") == []
    assert await ids(catalog, q="administresana", language="ru", project="IMK") == [s.networks]
    second = await search(catalog, q="PYTHON", project="IMK", language="lv", limit=1, offset=1)
    assert ([i["id"] for i in second["items"]], second["total"]) == ([s.sql], 2)  # the total counts the filtered set
    beyond = await search(catalog, q="python", project="IMK", limit=1, offset=5)
    assert (beyond["items"], beyond["total"]) == ([], 2)
    page = await search(catalog, project="IMK", language=["lv", "en"], sort="-cost", limit=2)
    assert ([i["id"] for i in page["items"]], page["total"]) == ([s.data, s.sql], 3)  # 320.00 twice, then 240.00
    assert (await search(catalog, project="IMK", language="en", limit=2, offset=2))["total"] == 1


# --------------------------------------------------------------------------- the migration


async def _programmes_of_0006(database: Database) -> dict[uuid.UUID, str]:
    """Published programmes written before revision 0007 ("Programma 0" to "2"), by language (their forms say it)."""
    institution_id, location_id = await _institution(database.engine)
    languages: dict[uuid.UUID, str] = {}
    async with database.transaction() as session:
        for n, language in enumerate(("lv", "en", "ru")):
            base = _programme(institution_id, location_id, f"Programma {n}", n)
            programme = replace(base, spec=replace(base.spec, language=language))
            await insert_before_0007(session, programme, search_key(f"programma {n} python"))
            languages[programme.id] = language
    return languages


async def _found(database: Database, query: CatalogueQuery) -> list[uuid.UUID]:
    async with database.session() as session:
        found, _ = await catalogue_db.search_programmes(session, query, TODAY)
    return [p.id for p, _ in found]


async def _columns(engine: AsyncEngine, table: str) -> set[str]:
    async with engine.connect() as conn:
        if not await conn.run_sync(lambda c: sa.inspect(c).has_table(table)):
            return set()
        return {c["name"] for c in await conn.run_sync(lambda c: sa.inspect(c).get_columns(table))}


async def test_the_migration_gives_the_programmes_there_are_their_language_and_goes_down(database_url: str) -> None:
    directory = DEFINITION.migrations_dir
    await asyncio.to_thread(migrations.upgrade, directory, database_url, "0006")
    database = Database(database_url)
    engine = database.engine
    try:
        languages = await _programmes_of_0006(database)
        await asyncio.to_thread(migrations.upgrade, directory, database_url)
        async with engine.connect() as conn:
            stored = {r.id: r.language for r in await conn.execute(sa.select(programmes_db.programmes))}
        assert stored == languages
        (english,) = [p for p, language in languages.items() if language == "en"]
        assert await _found(database, CatalogueQuery(languages=("en",))) == [english]
        assert await _found(database, CatalogueQuery(text="python", languages=("en",))) == [english]
        assert await _columns(engine, "calls") == {"call_id", "code", "project_code", "opened_at"}

        await asyncio.to_thread(migrations.downgrade, directory, database_url, "0006")
        assert "language" not in await _columns(engine, "programmes")
        assert await _columns(engine, "calls") == set()
        expected = {"ix_programmes_search_trgm"} if database.is_postgres else SQLITE_OBJECTS
        assert await _index_objects(engine) == expected  # revision 0005's index outlives the column (no rebuild)

        await asyncio.to_thread(migrations.upgrade, directory, database_url)  # and up again
        not_english = [p for p, language in languages.items() if language != "en"]  # by title, as written
        assert await _found(database, CatalogueQuery(text="python", languages=("ru", "lv"))) == not_english
    finally:
        await database.dispose()


async def test_a_search_asked_again_is_answered_from_memory_until_a_commit_here(catalog: Catalog) -> None:
    s = await shelf(catalog)
    await catalog.publish_programmes(s.liga, s.data, s.networks, s.cyber)
    await catalog.publish_programmes(s.karlis, s.sql)
    cost, sql_cost = [p["cost_per_participant"] for p in (await search(catalog, language="lv"))["items"]]
    other_process = Database(catalog.database.url)  # a write this process's cache cannot know of
    try:
        async with other_process.transaction() as session:
            programmes = programmes_db.programmes
            await session.execute(
                programmes.update()
                .where(programmes.c.id == uuid.UUID(s.data))
                .values(language="ru", cost_per_participant=Decimal("1.00"))
            )
    finally:
        await other_process.dispose()
    kept = await search(catalog, language="lv")  # the page kept (for at most SEARCH_SECONDS)
    assert [(p["id"], p["cost_per_participant"]) for p in kept["items"]] == [(s.data, cost), (s.sql, sql_cost)]
    fresh = await catalog.client.get(f"{API}/public/programmes/{s.data}")
    assert fresh.json()["cost_per_participant"] == "1.00"  # a programme's own page is read fresh
    assert await ids(catalog, language="lv", limit=5) == [s.sql]  # another search is another page

    async with catalog.database.transaction():
        pass  # any commit in this process: what it changed is read at once
    assert await ids(catalog, language="lv") == [s.sql]
