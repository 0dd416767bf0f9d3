"""Money as the platform stores it: NUMERIC(14, 2) euros instead of integer cents and decimal strings.

programmes: cost_cents -> cost_per_participant, per_hour_cents -> cost_per_hour (cents / 100, exactly), and
hourly_rate from a string to NUMERIC; the index on the cost is rebuilt on the new column.
coefficient_tables: hourly_rate from a string to NUMERIC. The downgrade goes back to cents and strings.

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from alembic.operations import BatchOperations

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MONEY = sa.Numeric(14, 2)
RATE = sa.String(20)
COST_INDEX = "ix_programmes_status_cost"
EUROS = (("cost_per_participant", MONEY), ("cost_per_hour", MONEY))
CENTS = (("cost_cents", sa.BigInteger()), ("per_hour_cents", sa.Integer()))

# `100.0` is a NUMERIC literal on PostgreSQL (the division is exact) and a REAL on SQLite, which keeps
# NUMERIC values as REAL anyway: read back at two places either way, the amounts are the same to the cent.
TO_EUROS = "UPDATE programmes SET cost_per_participant = cost_cents / 100.0, cost_per_hour = per_hour_cents / 100.0"
TO_CENTS = (
    "UPDATE programmes SET cost_cents = CAST(ROUND(cost_per_participant * 100) AS BIGINT), "
    "per_hour_cents = CAST(ROUND(cost_per_hour * 100) AS INTEGER)"
)


def upgrade() -> None:
    _move_costs(CENTS, EUROS, TO_EUROS, to_money=True)
    with op.batch_alter_table("coefficient_tables") as batch:
        _retype_hourly_rate(batch, to_money=True)


def downgrade() -> None:
    with op.batch_alter_table("coefficient_tables") as batch:
        _retype_hourly_rate(batch, to_money=False)
    _move_costs(EUROS, CENTS, TO_CENTS, to_money=False)


def _move_costs(
    old: tuple[tuple[str, sa.types.TypeEngine[Any]], ...],
    new: tuple[tuple[str, sa.types.TypeEngine[Any]], ...],
    copy: str,
    *,
    to_money: bool,
) -> None:
    """The programme's costs into `new` columns (copied by `copy`), the old ones and their index dropped, the
    index rebuilt on the new cost per participant; the hourly rate retyped alike."""
    with op.batch_alter_table("programmes") as batch:
        for name, type_ in new:
            batch.add_column(sa.Column(name, type_, nullable=True))
    op.execute(copy)
    with op.batch_alter_table("programmes") as batch:
        batch.drop_index(COST_INDEX)
        for name, type_ in new:
            batch.alter_column(name, existing_type=type_, nullable=False)
        _retype_hourly_rate(batch, to_money=to_money)
        for name, _ in old:
            batch.drop_column(name)
        batch.create_index(COST_INDEX, ["status", new[0][0]], unique=False)


def _retype_hourly_rate(batch: BatchOperations, *, to_money: bool) -> None:
    batch.alter_column(
        "hourly_rate",
        existing_type=RATE if to_money else MONEY,
        type_=MONEY if to_money else RATE,
        existing_nullable=False,
        postgresql_using="hourly_rate::numeric(14, 2)" if to_money else "hourly_rate::varchar(20)",
    )
