"""What a notice is about: the type and id of the thing a client can open from it (a survey for the invitations
and reminders of surveys). Notices of before this revision are about nothing to open and keep none.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notices") as batch:
        batch.add_column(sa.Column("reference_type", sa.String(30), nullable=True))
        batch.add_column(sa.Column("reference_id", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("notices") as batch:
        batch.drop_column("reference_id")
        batch.drop_column("reference_type")
