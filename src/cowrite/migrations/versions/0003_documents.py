"""documents, tags and versions

Revision ID: 0003_documents
Revises: 0002_workspaces
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_documents"
down_revision = "0002_workspaces"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def _user_fk(table: str, column: str) -> sa.Column:
    return sa.Column(
        column,
        sa.Uuid(),
        sa.ForeignKey("users.id", ondelete="SET NULL", name=f"fk_{table}_{column}_users"),
        nullable=True,
    )


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column(
            "workspace_id",
            sa.Uuid(),
            sa.ForeignKey(
                "workspaces.id", ondelete="CASCADE", name="fk_documents_workspace_id_workspaces"
            ),
            nullable=False,
        ),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _user_fk("documents", "created_by"),
        _user_fk("documents", "updated_by"),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("deleted_at", TS, nullable=True),
        _user_fk("documents", "deleted_by"),
    )
    op.create_index(
        "ix_documents_workspace_live", "documents", ["workspace_id", "deleted_at", "updated_at"]
    )
    op.create_table(
        "document_tags",
        sa.Column(
            "document_id",
            sa.Uuid(),
            sa.ForeignKey(
                "documents.id", ondelete="CASCADE", name="fk_document_tags_document_id_documents"
            ),
            primary_key=True,
        ),
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column(
            "workspace_id",
            sa.Uuid(),
            sa.ForeignKey(
                "workspaces.id", ondelete="CASCADE", name="fk_document_tags_workspace_id_workspaces"
            ),
            nullable=False,
        ),
    )
    op.create_index("ix_document_tags_workspace_name", "document_tags", ["workspace_id", "name"])
    op.create_table(
        "document_versions",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column(
            "document_id",
            sa.Uuid(),
            sa.ForeignKey(
                "documents.id",
                ondelete="CASCADE",
                name="fk_document_versions_document_id_documents",
            ),
            nullable=False,
        ),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("label", sa.String(200), nullable=True),
        _user_fk("document_versions", "author_id"),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("base_number", sa.Integer(), nullable=True),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("content_size", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.UniqueConstraint("document_id", "number", name="uq_document_versions_document_id"),
    )
    if op.get_bind().dialect.name == "postgresql":
        _postgres_search_up()
    else:
        _sqlite_search_up()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_documents_search_vector")
        op.execute("ALTER TABLE documents DROP COLUMN IF EXISTS search_vector")
        op.execute("DROP FUNCTION IF EXISTS cowrite_search_vector(text, text)")
    else:
        for action in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS documents_search_{action}")
        op.execute("DROP TABLE IF EXISTS documents_fts")
        op.execute("DROP TABLE IF EXISTS documents_fts_map")
        op.execute("DROP INDEX IF EXISTS ix_documents_search_scope")
    op.drop_table("document_versions")
    op.drop_table("document_tags")
    op.drop_table("documents")


# Full-text search is kept current by the database itself, so every writer (REST, co-editing)
# is indexed with no extra call. Both backends see the same words: runs of letters and digits,
# lower-cased, no stemming and no stop words, so a query matches the same documents on both.

# PostgreSQL: text is reduced to letters and digits before parsing (as FTS5's unicode61 tokenizer
# does); the title is weighted A, the body B. A tsvector holds at most 1 MB, so a body whose
# vector would overflow is indexed by its leading part instead of failing the write.
_PG_SEARCH_FUNCTION = r"""
CREATE FUNCTION cowrite_search_vector(title text, body text) RETURNS tsvector
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    head tsvector := setweight(
        to_tsvector('simple', regexp_replace(coalesce(title, ''), '[^[:alnum:]]+', ' ', 'g')), 'A');
BEGIN
    RETURN head || setweight(
        to_tsvector('simple', regexp_replace(coalesce(body, ''), '[^[:alnum:]]+', ' ', 'g')), 'B');
EXCEPTION WHEN program_limit_exceeded THEN
    RETURN head || setweight(
        to_tsvector('simple', regexp_replace(left(body, 200000), '[^[:alnum:]]+', ' ', 'g')), 'B');
END
$$
"""


def _postgres_search_up() -> None:
    op.execute(_PG_SEARCH_FUNCTION)
    op.execute(
        "ALTER TABLE documents ADD COLUMN search_vector tsvector "
        "GENERATED ALWAYS AS (cowrite_search_vector(title, content)) STORED"
    )
    op.execute("CREATE INDEX ix_documents_search_vector ON documents USING gin (search_vector)")


# SQLite: an FTS5 table keyed through a small map, because a rowid of `documents` (whose key is
# a UUID) may change on VACUUM while the map's INTEGER PRIMARY KEY never does.
_SQLITE_SEARCH = [
    """CREATE TABLE documents_fts_map (
        fts_rowid INTEGER PRIMARY KEY,
        document_id CHAR(32) NOT NULL UNIQUE
    )""",
    """CREATE VIRTUAL TABLE documents_fts USING fts5(
        title, content, tokenize = 'unicode61 remove_diacritics 0'
    )""",
    """CREATE TRIGGER documents_search_insert AFTER INSERT ON documents BEGIN
        INSERT INTO documents_fts_map (document_id) VALUES (new.id);
        INSERT INTO documents_fts (rowid, title, content)
            VALUES (last_insert_rowid(), new.title, new.content);
    END""",
    """CREATE TRIGGER documents_search_update AFTER UPDATE OF title, content ON documents
    WHEN old.title IS NOT new.title OR old.content IS NOT new.content BEGIN
        UPDATE documents_fts SET title = new.title, content = new.content
            WHERE rowid = (SELECT fts_rowid FROM documents_fts_map WHERE document_id = new.id);
    END""",
    """CREATE TRIGGER documents_search_delete AFTER DELETE ON documents BEGIN
        DELETE FROM documents_fts
            WHERE rowid = (SELECT fts_rowid FROM documents_fts_map WHERE document_id = old.id);
        DELETE FROM documents_fts_map WHERE document_id = old.id;
    END""",
    # Search checks every candidate's workspace and trash state: from this index, not the rows.
    "CREATE INDEX ix_documents_search_scope ON documents (id, deleted_at, workspace_id)",
]


def _sqlite_search_up() -> None:
    for statement in _SQLITE_SEARCH:
        op.execute(statement)
