"""The provider's invoice of an enrolment: what was invoiced and when (once, after the studies ended).

Invoices recorded before this revision were spends of the grant with the cause `invoiced`: each is carried over as
the enrolment's invoice, so that it is not invoiced again.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

INVOICED = """
    SELECT {what} FROM ledger_entries
    WHERE ledger_entries.application_id = enrolments.application_id
      AND ledger_entries.kind = 'spend' AND ledger_entries.cause = 'invoiced'
"""


def upgrade() -> None:
    with op.batch_alter_table("enrolments") as batch:
        batch.add_column(sa.Column("invoiced_amount", sa.Numeric(14, 2)))
        batch.add_column(sa.Column("invoiced_at", sa.DateTime(timezone=True)))
    op.execute(
        sa.text(
            f"UPDATE enrolments SET invoiced_amount = ({INVOICED.format(what='SUM(amount)')}), "
            f"invoiced_at = ({INVOICED.format(what='MAX(at)')}) "
            f"WHERE EXISTS ({INVOICED.format(what='1')})"
        )
    )


def downgrade() -> None:
    with op.batch_alter_table("enrolments") as batch:
        batch.drop_column("invoiced_at")
        batch.drop_column("invoiced_amount")
