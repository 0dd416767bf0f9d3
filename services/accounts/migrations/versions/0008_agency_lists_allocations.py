"""The agency's application list fast at 25 000 applications (an index per filter and sort), the project ledger by
project, and allocation runs (a window_then_rank allocation decided in batches, its progress recorded).

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

INDEXES = [
    ("ix_applications_submitted", "applications", ["submitted_at", "id"]),
    ("ix_applications_state_submitted", "applications", ["state", "submitted_at"]),
    ("ix_applications_project_submitted", "applications", ["project_code", "submitted_at"]),
    ("ix_applications_decided", "applications", ["decided_at"]),
    ("ix_applications_account", "applications", ["account_id"]),
    ("ix_accounts_name", "accounts", ["last_name", "first_name", "id"]),
    ("ix_ledger_entries_project", "ledger_entries", ["project_code", "at", "id"]),
]


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)
    if op.get_bind().dialect.name == "postgresql":  # "decided, latest first" keeps the undecided last, by index
        op.execute(
            "CREATE INDEX ix_applications_decided_desc ON applications (decided_at DESC NULLS LAST, submitted_at)"
        )
    op.create_table(
        "allocations",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("project_code", sa.String(20), sa.ForeignKey("funding_projects.code"), nullable=False, unique=True),
        sa.Column("seed", sa.String(64), nullable=False),
        sa.Column("rules_version", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("ranked", sa.Integer(), nullable=False),
        sa.Column("approved", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("requested_by", sa.String(64), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
    )


def downgrade() -> None:
    op.drop_table("allocations")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_applications_decided_desc")
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
