"""The public catalogue's word search answers from an index built for it, instead of a scan of every programme.

The search matches every query word as a substring of `programmes.search_text` (the programme's text folded by
`catalog.domain.common.search_key`: no diacritics, case folded; the query words are folded the same way). A
trigram index answers exactly that, so the results stay what they were:

- PostgreSQL: the extension `pg_trgm` (created IF NOT EXISTS: the role running the migrations needs the right
  to create it, or it must be there already) and a GIN index `ix_programmes_search_trgm` on
  `search_text gin_trgm_ops`, which answers `search_text LIKE '%word%'`. `fastupdate = off`: programmes are
  written seldom and searched often, so a write goes straight into the index instead of a pending list that
  every search would scan (and that leaves the planner without statistics until a vacuum).
- SQLite: an FTS5 table `programme_search(programme_id UNINDEXED, search_text)` with the `trigram` tokenizer
  (`case_sensitive 1`: the text is folded already), filled from the programmes there are and kept in step by
  the triggers `programme_search_insert|update|delete` on `programmes` (so every writer, the bench's bulk seed
  included, fills it in the same transaction). A phrase query `"word"` over trigrams is a substring match.
  **A later revision that rebuilds `programmes` on SQLite (`batch_alter_table` copies the table and drops the
  old one, and its triggers with it) must create these triggers again**: `test_search_index` fails otherwise.

Neither is in `catalog.db.metadata` (SQLAlchemy cannot declare them); `catalog.db.catalogue.SEARCH_INDEX` names
them, and the migration checks and autogenerate leave them alone.

The index (status, title_key) behind the sort by title becomes (status, title_key, id), the sort's full key.

The downgrade drops the index, or the table and its triggers, and restores the old title index; the extension
stays (another object of the database may use it).

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TITLE_INDEX = "ix_programmes_status_title"
TRGM_INDEX = "ix_programmes_search_trgm"
FTS = "programme_search"
SQLITE_UP = (
    f"CREATE VIRTUAL TABLE {FTS} USING fts5(programme_id UNINDEXED, search_text, "
    "tokenize = 'trigram case_sensitive 1')",
    f"INSERT INTO {FTS} (programme_id, search_text) SELECT id, search_text FROM programmes",
    f"""CREATE TRIGGER {FTS}_insert AFTER INSERT ON programmes BEGIN
        INSERT INTO {FTS} (programme_id, search_text) VALUES (NEW.id, NEW.search_text);
    END""",
    f"""CREATE TRIGGER {FTS}_update AFTER UPDATE OF id, search_text ON programmes BEGIN
        DELETE FROM {FTS} WHERE programme_id = OLD.id;
        INSERT INTO {FTS} (programme_id, search_text) VALUES (NEW.id, NEW.search_text);
    END""",
    f"""CREATE TRIGGER {FTS}_delete AFTER DELETE ON programmes BEGIN
        DELETE FROM {FTS} WHERE programme_id = OLD.id;
    END""",
)
SQLITE_DOWN = (
    f"DROP TRIGGER IF EXISTS {FTS}_delete",
    f"DROP TRIGGER IF EXISTS {FTS}_update",
    f"DROP TRIGGER IF EXISTS {FTS}_insert",
    f"DROP TABLE IF EXISTS {FTS}",
)
POSTGRES_UP = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    f"CREATE INDEX {TRGM_INDEX} ON programmes USING gin (search_text gin_trgm_ops) WITH (fastupdate = off)",
)
POSTGRES_DOWN = (f"DROP INDEX IF EXISTS {TRGM_INDEX}",)


def upgrade() -> None:
    for statement in POSTGRES_UP if _is_postgres() else SQLITE_UP:
        op.execute(statement)
    op.drop_index(TITLE_INDEX, table_name="programmes")
    op.create_index(TITLE_INDEX, "programmes", ["status", "title_key", "id"])


def downgrade() -> None:
    op.drop_index(TITLE_INDEX, table_name="programmes")
    op.create_index(TITLE_INDEX, "programmes", ["status", "title_key"])
    for statement in POSTGRES_DOWN if _is_postgres() else SQLITE_DOWN:
        op.execute(statement)


def _is_postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"
