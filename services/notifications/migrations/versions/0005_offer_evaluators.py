"""Who evaluates an offer (the read model of calls' internal `EvaluatorAssigned`: the officer's opaque user id and
the call's code, the latest assignment winning), to tell the agency officer of the offer and its clarifications.

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "offer_evaluators",
        sa.Column("offer_id", sa.Uuid(), nullable=False),
        sa.Column("evaluator_id", sa.String(length=64), nullable=False),
        sa.Column("call_code", sa.String(length=50), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("offer_id"),
    )


def downgrade() -> None:
    op.drop_table("offer_evaluators")
