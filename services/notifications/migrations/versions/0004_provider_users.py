"""Who acts for an education institution (the read model of catalog's provider users: opaque user ids and their
role, no names) and when an institution was approved, to tell its provider admins what happened to it.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "provider_users",
        sa.Column("institution_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint("institution_id", "user_id"),
    )
    op.create_table(
        "provider_approvals",
        sa.Column("institution_id", sa.Uuid(), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("institution_id"),
    )


def downgrade() -> None:
    op.drop_table("provider_approvals")
    op.drop_table("provider_users")
