"""Notices for every holder of an agency role (a registration waiting, a quality flag), kept until the directory
names the holders and each gets their own; who chose the staff's daily digest and what the last one covered.

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "staff_notices",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=30), nullable=False),
        sa.Column("kind", sa.String(length=50), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cause_event_id", sa.String(length=64), nullable=False),
        sa.Column("reference_type", sa.String(length=30), nullable=True),
        sa.Column("reference_id", sa.String(length=64), nullable=True),
        sa.Column("template_values", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_staff_notices_created_at"), "staff_notices", ["created_at"], unique=False)
    op.create_table(
        "digest_choices",
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("chosen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("covered_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_sent_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("user_id"),
    )


def downgrade() -> None:
    op.drop_table("digest_choices")
    op.drop_index(op.f("ix_staff_notices_created_at"), table_name="staff_notices")
    op.drop_table("staff_notices")
