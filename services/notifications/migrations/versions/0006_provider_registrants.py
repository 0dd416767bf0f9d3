"""Who registered an institution (catalog's `ProviderRegistered.registered_by`: an opaque user id, no name), to tell
them if the registration is rejected: they are no provider user until it is approved.

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
    op.create_table(
        "provider_registrants",
        sa.Column("institution_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("institution_id"),
    )


def downgrade() -> None:
    op.drop_table("provider_registrants")
