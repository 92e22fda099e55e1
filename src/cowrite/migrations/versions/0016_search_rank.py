"""search: a creation sequence for PostgreSQL's documents, so both backends rank the same matches

Revision ID: 0016_search_rank
Revises: 0015_search

A frequent query ranks only its newest matches. SQLite numbers its documents in creation order
already (the FTS map's rowid); PostgreSQL gets the same: `search_seq`, set by the database on
insert and never changed, with an index so that a search reads the newest rows first. Existing
documents are numbered by their creation time.
"""

from __future__ import annotations

from alembic import op

revision = "0016_search_rank"
down_revision = "0015_search"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE documents ADD COLUMN search_seq bigint")
    op.execute(
        "UPDATE documents SET search_seq = numbered.n FROM ("
        " SELECT id, row_number() OVER (ORDER BY created_at, id) AS n FROM documents"
        ") AS numbered WHERE documents.id = numbered.id"
    )
    op.execute("ALTER TABLE documents ALTER COLUMN search_seq SET NOT NULL")
    start = (
        op.get_bind()
        .exec_driver_sql("SELECT coalesce(max(search_seq), 0) + 1 FROM documents")
        .scalar_one()
    )
    op.execute(
        "ALTER TABLE documents ALTER COLUMN search_seq "
        f"ADD GENERATED ALWAYS AS IDENTITY (START WITH {int(start)})"
    )
    op.execute("CREATE UNIQUE INDEX ix_documents_search_seq ON documents (search_seq)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_documents_search_seq")
    op.execute("ALTER TABLE documents DROP COLUMN IF EXISTS search_seq")
