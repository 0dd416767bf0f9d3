"""The study group a learner chooses when applying (`ApplicationIn.group_id`), offered first at enrolment.

Applications submitted before this revision chose none.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("applications") as batch:
        batch.add_column(sa.Column("group_id", sa.Uuid()))


def downgrade() -> None:
    with op.batch_alter_table("applications") as batch:
        batch.drop_column("group_id")
