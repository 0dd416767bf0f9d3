"""The outbox and inbox tables, shared by every service (their migrations: migrations.py)."""

from __future__ import annotations

import sqlalchemy as sa

from prasmes_runtime.db import UtcDateTime

messaging_metadata = sa.MetaData()

outbox = sa.Table(
    "outbox",
    messaging_metadata,
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
    sa.Index("ix_outbox_pending", "dispatched_at", "id"),
)

inbox = sa.Table(
    "inbox",
    messaging_metadata,
    sa.Column("consumer", sa.String(100), primary_key=True),
    sa.Column("event_id", sa.String(64), primary_key=True),
    sa.Column("event_type", sa.String(200), nullable=False),
    sa.Column("processed_at", UtcDateTime(), nullable=False),
    sa.Index("ix_inbox_processed_at", "processed_at"),
)
