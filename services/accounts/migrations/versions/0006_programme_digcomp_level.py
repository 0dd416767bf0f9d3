"""The DigComp proficiency level of the programmes in the read model (`ProgrammePublished.digcomp_level`), which the
learner's credential of completed studies states.

Programmes published before this revision have none until catalog publishes them again: their credentials then
leave the level out.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("programmes") as batch:
        batch.add_column(sa.Column("digcomp_level", sa.SmallInteger()))


def downgrade() -> None:
    with op.batch_alter_table("programmes") as batch:
        batch.drop_column("digcomp_level")
