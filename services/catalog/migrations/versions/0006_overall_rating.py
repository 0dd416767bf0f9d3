"""The overall rating surveys computes (the mean of the aspects' exact means) beside the aspects' averages.

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("programme_ratings", sa.Column("overall", sa.Numeric(2, 1), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("programme_ratings") as batch_op:
        batch_op.drop_column("overall")
