"""One programme per licence of an institution: `programmes.licence_number` (the licence as the register spells
it, from the programme's form) and a unique index on (institution_id, licence_number) over the programmes not
withdrawn.

A database may already hold duplicates (one licence registered as several programmes). Before anything changes,
the upgrade looks at every licence of an institution with more than one programme not withdrawn:

- at most one of them is published: that one is kept (or, if none is, the newest draft), and the other drafts are
  marked withdrawn. Nothing is deleted: the rows and their forms stay, the provider sees them as withdrawn, and
  the ids are logged. A draft was never public, so nobody else has to be told.
- two or more are published: the upgrade refuses, naming the licence and the programmes, and changes nothing.
  Withdrawing a published programme must reach accounts and calls as a ProgrammeWithdrawn event (a migration
  cannot publish one), and which one stays is the agency's decision: end the other's cooperation agreement, then
  upgrade again.

The downgrade drops the index and the column; drafts the upgrade withdrew stay withdrawn.

Revision ID: 0004
Revises: 0003
"""

import json
import logging
from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "uq_programmes_licence"
WITHDRAWN = "withdrawn"
NOT_WITHDRAWN = sa.text("status <> 'withdrawn'")
log = logging.getLogger("alembic.runtime.migration")

programmes = sa.table(
    "programmes",
    sa.column("id", sa.Uuid()),
    sa.column("institution_id", sa.Uuid()),
    sa.column("status", sa.String()),
    sa.column("registered_at", sa.DateTime(timezone=True)),
    sa.column("licence_number", sa.String()),
)
programme_specs = sa.table("programme_specs", sa.column("programme_id", sa.Uuid()), sa.column("spec", sa.Text()))


def upgrade() -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(
            programmes.c.id,
            programmes.c.institution_id,
            programmes.c.status,
            programmes.c.registered_at,
            programme_specs.c.spec,
        ).join(programme_specs, programme_specs.c.programme_id == programmes.c.id)
    ).all()
    licences = {row.id: str(json.loads(row.spec)["licence_number"]).strip()[:50] for row in rows}
    withdraw = _duplicate_drafts(rows, licences)

    with op.batch_alter_table("programmes") as batch:
        batch.add_column(sa.Column("licence_number", sa.String(50), nullable=True))
    if licences:
        connection.execute(
            programmes.update().where(programmes.c.id == sa.bindparam("pid")).values(licence_number=sa.bindparam("number")),
            [{"pid": programme_id, "number": licence} for programme_id, licence in licences.items()],
        )
    if withdraw:
        connection.execute(programmes.update().where(programmes.c.id.in_(withdraw)).values(status=WITHDRAWN))
        log.warning("withdrew duplicate draft programmes of one licence: %s", ", ".join(sorted(map(str, withdraw))))
    with op.batch_alter_table("programmes") as batch:
        batch.alter_column("licence_number", existing_type=sa.String(50), nullable=False)
        batch.create_index(
            INDEX,
            ["institution_id", "licence_number"],
            unique=True,
            postgresql_where=NOT_WITHDRAWN,
            sqlite_where=NOT_WITHDRAWN,
        )


def downgrade() -> None:
    with op.batch_alter_table("programmes") as batch:
        batch.drop_index(INDEX)
        batch.drop_column("licence_number")


def _duplicate_drafts(rows: Sequence[sa.Row], licences: dict[object, str]) -> list[object]:
    """The drafts to withdraw so that each licence of an institution keeps one programme not withdrawn; refuses
    (changing nothing) where two published programmes share a licence."""
    active: dict[tuple[object, str], list[sa.Row]] = defaultdict(list)
    for row in rows:
        if row.status != WITHDRAWN:
            active[(row.institution_id, licences[row.id])].append(row)
    withdraw: list[object] = []
    clashes: list[str] = []
    for (institution_id, licence), group in active.items():
        if len(group) < 2:
            continue
        published = [row for row in group if row.status == "published"]
        if len(published) > 1:
            ids = ", ".join(sorted(str(row.id) for row in published))
            clashes.append(f"institution {institution_id}, licence {licence}: published programmes {ids}")
            continue
        keep = published[0] if published else max(group, key=lambda row: (row.registered_at, str(row.id)))
        withdraw += [row.id for row in group if row.id != keep.id]
    if clashes:
        raise RuntimeError(
            "catalog 0004 cannot make programmes one per licence: more than one programme of a licence is published ("
            + "; ".join(clashes)
            + "). Withdrawing a published programme needs its ProgrammeWithdrawn event: end all but one of these "
            "programmes' cooperation agreements, then upgrade again. Nothing was changed."
        )
    return withdraw
