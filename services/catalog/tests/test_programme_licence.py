"""One programme per licence: an institution registers a licensed programme once (a second one is a 409 naming
the first), the use case checks it and a unique index holds it, and the migration that adds the index deals
with the duplicates a database may already hold."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from catalog.app import DEFINITION
from catalog.db.programmes import programmes
from prasmes_contracts.calls import CooperationAgreementSigned
from prasmes_runtime import migrations
from prasmes_testing import samples
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from .conftest import API, NOW, Catalog

# --------------------------------------------------------------------------- the rule, over HTTP


async def test_a_licence_is_registered_as_one_programme_of_the_institution(catalog: Catalog) -> None:
    a = await catalog.approved_institution("liga")
    riga = await catalog.location("liga", a, "Brīvības iela 100, Rīga, LV-1001")
    first = await catalog.programme("liga", a, [riga])
    assert first.status_code == 201, first.text
    for attempt in range(5):
        again = await catalog.programme("liga", a, [riga], title={"lv": f"Kopija {attempt}", "en": f"Copy {attempt}"})
        assert again.status_code == 409, again.text
        assert again.json()["current"] == {
            "programme_id": first.json()["id"],
            "status": "draft",
            "licence_number": "P-1234",
        }
    spaced = await catalog.programme("liga", a, [riga], licence_number=" P-1234 ")
    assert spaced.status_code == 409
    listed = await catalog.client.get(f"{API}/providers/{a}/programmes", headers=catalog.user("liga"))
    assert [p["id"] for p in listed.json()] == [first.json()["id"]]
    other_licence = await catalog.programme(
        "liga", a, [riga], licence_number="P-3003", licence_date="2021-02-15", theory_hours=60, practice_hours=100
    )
    assert other_licence.status_code == 201, other_licence.text
    # The existing programme's state is named, whatever it is.
    await catalog.publish_programmes(a, first.json()["id"])
    published = await catalog.programme("liga", a, [riga])
    assert published.status_code == 409 and published.json()["current"]["status"] == "published"


async def test_the_same_licence_number_at_another_institution_is_its_own(catalog: Catalog) -> None:
    a = await catalog.approved_institution("liga")
    b = await catalog.approved_institution("karlis", "3360800005")
    riga = await catalog.location("liga", a, "Brīvības iela 100, Rīga, LV-1001")
    cesis = await catalog.location("karlis", b, "Raiņa iela 12, Cēsis, LV-4101")
    assert (await catalog.programme("liga", a, [riga], licence_number="P-1234")).status_code == 201
    # Kārlis's institution has no P-1234: refused by the register, not as a duplicate of Līga's.
    theirs = await catalog.programme("karlis", b, [cesis], licence_number="P-1234")
    assert theirs.status_code == 422 and theirs.json()["errors"][0]["rule"] == "registered"


async def test_a_withdrawn_duplicate_of_before_the_rule_is_not_published_again(catalog: Catalog) -> None:
    """A duplicate draft revision 0004 withdrew stays withdrawn when an agreement names it: its licence has an
    active programme (the agreement's other programmes are published as usual)."""
    a = await catalog.approved_institution("liga")
    riga = await catalog.location("liga", a, "Brīvības iela 100, Rīga, LV-1001")
    old = (await catalog.programme("liga", a, [riga])).json()["id"]
    async with catalog.database.transaction() as session:  # as the migration left a duplicate of before the rule
        await session.execute(
            sa.update(programmes)
            .where(programmes.c.id == uuid.UUID(old))
            .values(status="withdrawn", licence_number="x")
        )
    active = (await catalog.programme("liga", a, [riga])).json()["id"]
    async with catalog.database.transaction() as session:
        await session.execute(
            sa.update(programmes).where(programmes.c.id == uuid.UUID(old)).values(licence_number="P-1234")
        )
    signed = CooperationAgreementSigned(
        offer_id=uuid.uuid4(),
        call_id=uuid.uuid4(),
        institution_id=uuid.UUID(a),
        programme_ids=[uuid.UUID(old), uuid.UUID(active)],
        at=NOW,
        valid_until=date(2026, 6, 30),
    )
    await catalog.publish(signed)
    await catalog.wait_public(active, 200)  # the agreement was applied (and not dead-lettered)
    assert (await catalog.client.get(f"{API}/public/programmes/{old}")).status_code == 404
    mine = await catalog.client.get(f"{API}/providers/{a}/programmes/{old}", headers=catalog.user("liga"))
    assert mine.json()["status"] == "withdrawn"


# --------------------------------------------------------------------------- the migration


BEFORE = "0003"
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def _table(table: str, /, **columns: Any) -> sa.TableClause:
    """A table as revision 0003 left it, with the columns a row needs."""
    return sa.table(table, *(sa.column(column, type_) for column, type_ in columns.items()))


TEXT, UUID, WHEN, MONEY = sa.String(), sa.Uuid(), sa.DateTime(timezone=True), sa.Numeric(14, 2)
PROGRAMMES_0003 = _table(
    "programmes",
    id=UUID,
    institution_id=UUID,
    status=TEXT,
    title_lv=TEXT,
    title_key=TEXT,
    search_text=TEXT,
    form=TEXT,
    digcomp_level=sa.Integer(),
    total_hours=sa.Integer(),
    cost_per_participant=MONEY,
    cost_per_hour=MONEY,
    hourly_rate=MONEY,
    coefficient=TEXT,
    coefficient_table_version=sa.Integer(),
    registered_at=WHEN,
    registered_by=TEXT,
)
SPECS = _table("programme_specs", programme_id=UUID, spec=TEXT)
INSTITUTIONS = _table(
    "institutions",
    id=UUID,
    name=TEXT,
    register_number=TEXT,
    legal_address=TEXT,
    admin_name=TEXT,
    admin_email=TEXT,
    registered_by=TEXT,
    registered_at=WHEN,
    statement_document_id=UUID,
    status=TEXT,
)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    await asyncio.to_thread(migrations.upgrade, DEFINITION.migrations_dir, database_url, BEFORE)
    engine = create_async_engine(database_url)
    yield engine
    await engine.dispose()


async def _institution(engine: AsyncEngine, number: str) -> uuid.UUID:
    institution_id = uuid.uuid4()
    async with engine.begin() as conn:
        await conn.execute(
            INSTITUTIONS.insert().values(
                id=institution_id,
                name=f"Iestāde {number}",
                register_number=number,
                legal_address="Rīga",
                admin_name="Admin",
                admin_email="admin@example.lv",
                registered_by=f"admin-{number}",
                registered_at=T0,
                statement_document_id=uuid.uuid4(),
                status="approved",
            )
        )
    return institution_id


async def _programme(
    engine: AsyncEngine, institution_id: uuid.UUID, status: str, days: int, licence: str = "P-1234"
) -> uuid.UUID:
    programme_id = uuid.uuid4()
    async with engine.begin() as conn:
        await conn.execute(
            PROGRAMMES_0003.insert().values(
                id=programme_id,
                institution_id=institution_id,
                status=status,
                title_lv="Datu analīze",
                title_key="datu analize",
                search_text="datu analize",
                form="in_person",
                digcomp_level=5,
                total_hours=160,
                cost_per_participant=Decimal("320.00"),
                cost_per_hour=Decimal("2.00"),
                hourly_rate=Decimal("1.56"),
                coefficient="1.28",
                coefficient_table_version=1,
                registered_at=T0 + timedelta(days=days),
                registered_by="liga",
            )
        )
        form = samples.programme_payload([], str(uuid.uuid4()), licence_number=licence)  # the form, as stored
        await conn.execute(SPECS.insert().values(programme_id=programme_id, spec=json.dumps(form)))
    return programme_id


async def _statuses(engine: AsyncEngine, columns: str = "status, licence_number") -> dict[uuid.UUID, tuple[str, ...]]:
    async with engine.connect() as conn:
        rows = (await conn.execute(sa.text(f"SELECT id, {columns} FROM programmes"))).all()
    return {r[0] if isinstance(r[0], uuid.UUID) else uuid.UUID(r[0]): tuple(r[1:]) for r in rows}


async def test_the_migration_keeps_one_programme_per_licence_and_withdraws_the_duplicate_drafts(
    engine: AsyncEngine, database_url: str
) -> None:
    a = await _institution(engine, "3360800001")
    b = await _institution(engine, "3360800005")
    old_drafts = [await _programme(engine, a, "draft", days) for days in (1, 2, 3)]
    newest_draft = await _programme(engine, a, "draft", 4)
    published = await _programme(engine, a, "published", 0, licence="P-3003")
    draft_of_published = await _programme(engine, a, "draft", 5, licence=" P-3003")
    withdrawn = await _programme(engine, a, "withdrawn", 0, licence="P-2001")
    draft_after_withdrawn = await _programme(engine, a, "draft", 1, licence="P-2001")
    elsewhere = await _programme(engine, b, "draft", 1)

    await asyncio.to_thread(migrations.upgrade, DEFINITION.migrations_dir, database_url)

    statuses = await _statuses(engine)
    assert {statuses[p] for p in old_drafts} == {("withdrawn", "P-1234")}
    assert statuses[newest_draft] == ("draft", "P-1234")
    assert statuses[published] == ("published", "P-3003")
    assert statuses[draft_of_published] == ("withdrawn", "P-3003")  # the licence as the register spells it
    assert statuses[withdrawn] == ("withdrawn", "P-2001")
    assert statuses[draft_after_withdrawn] == ("draft", "P-2001")
    assert statuses[elsewhere] == ("draft", "P-1234")
    # Nothing is lost: every programme and its form are still there.
    async with engine.connect() as conn:
        assert await conn.scalar(sa.text("SELECT count(*) FROM programme_specs")) == 9
    # From now on the database refuses a second programme of a licence that is not withdrawn.
    with pytest.raises(IntegrityError):
        async with engine.begin() as conn:
            await conn.execute(
                sa.text("UPDATE programmes SET status = 'draft' WHERE id = :id"),
                {"id": _bind(old_drafts[0], database_url)},
            )
    await asyncio.to_thread(migrations.downgrade, DEFINITION.migrations_dir, database_url, BEFORE)
    async with engine.connect() as conn:
        assert await conn.scalar(sa.text("SELECT count(*) FROM programmes")) == 9


async def test_the_migration_refuses_two_published_programmes_of_one_licence_by_name(
    engine: AsyncEngine, database_url: str
) -> None:
    a = await _institution(engine, "3360800001")
    first = await _programme(engine, a, "published", 1)
    second = await _programme(engine, a, "published", 2)
    with pytest.raises(RuntimeError) as refused:
        await asyncio.to_thread(migrations.upgrade, DEFINITION.migrations_dir, database_url)
    assert str(first) in str(refused.value) and str(second) in str(refused.value)
    assert "P-1234" in str(refused.value)
    statuses = await _statuses(engine, "status")
    assert statuses[first] == statuses[second] == ("published",)  # nothing was changed


def _bind(value: uuid.UUID, database_url: str) -> object:
    """How the dialect stores a UUID in a plain text query: 32 hex digits on SQLite, a uuid on PostgreSQL."""
    return value.hex if database_url.startswith("sqlite") else value
