"""A funding project's budget can never be overspent, even by SQL that bypasses the service: the database's
own constraint (`ck_budget_not_overspent`, made by accounts' migration 0002) refuses the UPDATE."""

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
import sqlalchemy as sa
from accounts.app import DEFINITION as ACCOUNTS
from prasmes_runtime import migrations
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

pytestmark = pytest.mark.postgres
PROJECT = "IMK"  # seeded by migration 0003


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """A plain engine on a migrated accounts database: no service code between the SQL and the database."""
    await asyncio.to_thread(migrations.upgrade, ACCOUNTS.migrations_dir, database_url)
    engine = create_async_engine(database_url)
    try:
        yield engine
    finally:
        await engine.dispose()


async def _update(engine: AsyncEngine, assignments: str) -> None:
    async with engine.begin() as conn:
        await conn.execute(sa.text(f"UPDATE funding_projects SET {assignments} WHERE code = :code"), {"code": PROJECT})


async def _budget(engine: AsyncEngine) -> tuple[Decimal, Decimal, Decimal]:
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                sa.text("SELECT budget, reserved, spent FROM funding_projects WHERE code = :code"), {"code": PROJECT}
            )
        ).one()
    return Decimal(str(row.budget)), Decimal(str(row.reserved)), Decimal(str(row.spent))


@pytest.mark.parametrize(
    "overspending",
    [
        "reserved = budget + 0.01",
        "spent = budget + 0.01",
        "reserved = budget - 100, spent = 100.01",
        "reserved = -0.01",
        "spent = -0.01",
    ],
)
async def test_the_database_refuses_an_update_that_would_overspend_a_budget(
    engine: AsyncEngine, overspending: str
) -> None:
    await _update(engine, "reserved = budget - 100, spent = 100")  # the whole budget used: allowed
    budget, reserved, spent = await _budget(engine)
    assert budget > 100 and reserved + spent == budget
    with pytest.raises(sa.exc.IntegrityError) as refused:
        await _update(engine, overspending)
    assert "ck_budget_not_overspent" in str(refused.value)  # this constraint, not another one
    assert await _budget(engine) == (budget, reserved, spent)  # nothing of the refused UPDATE took effect
