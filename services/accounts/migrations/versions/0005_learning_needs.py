"""Learning needs on applications: the read model of calls' approved learning needs (each call's funding project and
the needs its latest list approved), and the code of the one an application names.

Applications submitted before this revision name none (their learner's own words stay as they were).

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calls",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("project_code", sa.String(20), nullable=False),
        sa.Column("code", sa.String(100)),
        sa.Column("title", sa.Text()),
        sa.Column("needs_approved_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "learning_needs",
        sa.Column("call_id", sa.Uuid(), sa.ForeignKey("calls.id"), primary_key=True),
        sa.Column("code", sa.String(100), primary_key=True),
        sa.Column("project_code", sa.String(20), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("approved_on", sa.Date(), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_learning_needs_project_code", "learning_needs", ["project_code"])
    with op.batch_alter_table("applications") as batch:
        batch.add_column(sa.Column("learning_need_code", sa.String(100)))


def downgrade() -> None:
    with op.batch_alter_table("applications") as batch:
        batch.drop_column("learning_need_code")
    op.drop_index("ix_learning_needs_project_code", "learning_needs")
    op.drop_table("learning_needs")
    op.drop_table("calls")
