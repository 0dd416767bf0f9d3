"""The public catalogue filters by funding project and by language of instruction.

- `calls`: the read model of calls' CallOpened (call id, code, the funding project it serves). A programme's
  projects are those of the calls of its signed agreements (`agreements.call_id`), joined at query time.
- `programmes.language`: the programme's language of instruction beside the other columns the search filters on,
  filled from each programme's form (`programme_specs.spec`).

SQLite cannot add a NOT NULL column without a default, so the column is added with the default '' and filled;
PostgreSQL then drops the default, SQLite keeps it (dropping it would rebuild `programmes`, and with it lose the
search triggers of revision 0005); every insert names the language. No table is rebuilt here: the downgrade drops
the column in place (SQLite 3.35 and later), which keeps those triggers too.

Revision ID: 0007
Revises: 0006
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LANGUAGE_LENGTH = 10
PROJECT_INDEX = "ix_calls_project_code"

programmes = sa.table("programmes", sa.column("id", sa.Uuid()), sa.column("language", sa.String()))
programme_specs = sa.table("programme_specs", sa.column("programme_id", sa.Uuid()), sa.column("spec", sa.Text()))


def upgrade() -> None:
    op.create_table(
        "calls",
        sa.Column("call_id", sa.Uuid(), primary_key=True),
        sa.Column("code", sa.String(30), nullable=False),
        sa.Column("project_code", sa.String(30), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(PROJECT_INDEX, "calls", ["project_code"])
    op.add_column(
        "programmes", sa.Column("language", sa.String(LANGUAGE_LENGTH), nullable=False, server_default="")
    )
    _fill_languages()
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("programmes", "language", server_default=None)


def downgrade() -> None:
    op.drop_column("programmes", "language")
    op.drop_index(PROJECT_INDEX, table_name="calls")
    op.drop_table("calls")


def _fill_languages() -> None:
    connection = op.get_bind()
    specs = connection.execute(sa.select(programme_specs.c.programme_id, programme_specs.c.spec)).all()
    languages = [
        {"pid": row.programme_id, "language": str(json.loads(row.spec).get("language", ""))[:LANGUAGE_LENGTH]}
        for row in specs
    ]
    if languages:
        connection.execute(
            programmes.update().where(programmes.c.id == sa.bindparam("pid")).values(language=sa.bindparam("language")),
            languages,
        )
