"""The outbox and inbox of every service: the runtime's own migration branch ("messaging").

A service's first revision depends on this one. Databases made before the branch existed already
have these tables (their service's first revision made them): then this revision creates nothing.

Revision ID: m0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from prasmes_runtime.db import UtcDateTime

revision = "m0001"
down_revision = None
branch_labels = ("messaging",)
depends_on = None


def _exists(name: str) -> bool:
    return name in sa.inspect(op.get_bind()).get_table_names()


def upgrade() -> None:
    if not _exists("outbox"):
        op.create_table(
            "outbox",
            sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
            sa.Column("event_id", sa.String(64), nullable=False, unique=True),
            sa.Column("topic", sa.String(200), nullable=False),
            sa.Column("partition_key", sa.String(200), nullable=False),
            sa.Column("event_type", sa.String(200), nullable=False),
            sa.Column("source", sa.String(200), nullable=False),
            sa.Column("subject", sa.String(200), nullable=True),
            sa.Column("data", sa.Text(), nullable=False),
            sa.Column("traceparent", sa.String(100), nullable=True),
            sa.Column("tracestate", sa.String(500), nullable=True),
            sa.Column("occurred_at", UtcDateTime(), nullable=False),
            sa.Column("dispatched_at", UtcDateTime(), nullable=True),
        )
        op.create_index("ix_outbox_pending", "outbox", ["dispatched_at", "id"])
    if not _exists("inbox"):
        op.create_table(
            "inbox",
            sa.Column("consumer", sa.String(100), primary_key=True),
            sa.Column("event_id", sa.String(64), primary_key=True),
            sa.Column("event_type", sa.String(200), nullable=False),
            sa.Column("processed_at", UtcDateTime(), nullable=False),
        )


def downgrade() -> None:
    op.drop_index("ix_outbox_pending", table_name="outbox")
    op.drop_table("outbox")
    op.drop_table("inbox")
