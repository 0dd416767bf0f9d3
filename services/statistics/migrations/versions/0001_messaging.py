"""The service's first revision: its outbox and inbox come from the runtime's messaging branch.

Revision ID: 0001
Revises:
"""


revision = "0001"
down_revision = None
branch_labels = None
depends_on = "m0001"  # the runtime's messaging branch: the outbox and inbox


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
