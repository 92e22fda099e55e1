"""search: a short pending list for PostgreSQL's text index

Revision ID: 0015_search
Revises: 0014_access

GIN gathers new entries in a pending list that every search reads from end to end until it is
merged into the index (by a vacuum, or by the write that fills it). Its default 4 MB is about a
thousand documents' words, which a search of a busy or unvacuumed database reads each time; a
quarter of a megabyte keeps that read short, and the merges smaller and more frequent.
"""

from __future__ import annotations

from alembic import op

revision = "0015_search"
down_revision = "0014_access"
branch_labels = None
depends_on = None

PENDING_LIST_KB = 256


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "ALTER INDEX ix_documents_search_vector "
            f"SET (gin_pending_list_limit = {PENDING_LIST_KB})"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER INDEX ix_documents_search_vector RESET (gin_pending_list_limit)")
