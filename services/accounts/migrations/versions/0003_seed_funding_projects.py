"""The four funding projects of the seed (DOMAIN.md): IMK with its 500 EUR grant, VARAM, TĀLĀK, 4242.

Budgets, windows and deadlines are demo values that agency_admin changes through the API; the
IMK grant of 500 EUR per person is the seed's figure.

Revision ID: 0003
Revises: 0002
"""

from datetime import UTC, date, datetime
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

OPENS = datetime(2025, 1, 1, tzinfo=UTC)
CLOSES = datetime(2027, 12, 31, 21, 59, tzinfo=UTC)  # 23:59 Riga time
PROJECTS = [
    ("IMK", "Individuālie mācību konti (ANM)", "3800000.00", "500.00", "first_come"),
    ("VARAM", "VARAM digitālo prasmju projekts", "4600000.00", "500.00", "first_come"),
    ("TALAK", "IMK apakšprojekts TĀLĀK", "250000.00", "600.00", "window_then_rank"),
    ("4242", "Projekts 4242", "4200000.00", "500.00", "first_come"),
]


def upgrade() -> None:
    table = sa.table(
        "funding_projects", sa.column("code"), sa.column("name"), sa.column("budget", sa.Numeric(14, 2)),
        sa.column("grant_per_person", sa.Numeric(14, 2)), sa.column("reserved", sa.Numeric(14, 2)),
        sa.column("spent", sa.Numeric(14, 2)), sa.column("window_opens_at", sa.DateTime(timezone=True)),
        sa.column("window_closes_at", sa.DateTime(timezone=True)), sa.column("enrolment_deadline", sa.Date()),
        sa.column("allocation_mode"), sa.column("min_age", sa.Integer()),
    )
    op.bulk_insert(table, [
        {"code": code, "name": name, "budget": Decimal(budget), "grant_per_person": Decimal(grant),
         "reserved": Decimal("0"), "spent": Decimal("0"), "window_opens_at": OPENS, "window_closes_at": CLOSES,
         "enrolment_deadline": date(2028, 3, 31), "allocation_mode": mode, "min_age": 18}
        for code, name, budget, grant, mode in PROJECTS
    ])


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM funding_projects WHERE code IN ('IMK', 'VARAM', 'TALAK', '4242')"))
