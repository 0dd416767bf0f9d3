"""Notices.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op


revision = "0001"
down_revision = None
branch_labels = None
depends_on = "m0001"  # the runtime's messaging branch: the outbox and inbox


def upgrade() -> None:
    op.create_table(
        "notices",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("recipient_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(50), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cause_event_id", sa.String(64), nullable=True),
    )
    op.create_index("ix_notices_recipient_id", "notices", ["recipient_id"])


def downgrade() -> None:
    op.drop_index("ix_notices_recipient_id", table_name="notices")
    op.drop_table("notices")
