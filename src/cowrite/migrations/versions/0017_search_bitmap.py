"""search: a way for PostgreSQL to answer a search from its bitmap indexes alone

Revision ID: 0017_search_bitmap
Revises: 0016_search_rank

The planner takes testing a document's text vector for as cheap as a comparison, so for a search
in a window of the newest documents it walks the creation sequence's index and tests each
document, where ANDing the text index's matches with the window is many times cheaper for all
but the most frequent words. `cowrite_search_bitmap` runs a search statement planned with index
walks turned off, for that statement alone (the setting is restored when the function returns,
also on a connection in autocommit); the statement reads its parameters as $1 (the caller), $2
(the workspace), $3 (the tag) and $4 (the characters of a body to read). STABLE: it runs
read-only statements only.
"""

from __future__ import annotations

from alembic import op

revision = "0017_search_bitmap"
down_revision = "0016_search_rank"
branch_labels = None
depends_on = None

_FUNCTION = r"""
CREATE OR REPLACE FUNCTION cowrite_search_bitmap(
    statement text, caller uuid, workspace uuid, tag_name text, chars integer
) RETURNS TABLE (
    key bigint, document_id uuid, workspace_id uuid, title text, body text, cut boolean
)
LANGUAGE plpgsql STABLE
SET enable_indexscan = off
AS $$
BEGIN
    RETURN QUERY EXECUTE statement USING caller, workspace, tag_name, chars;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS cowrite_search_bitmap(text, uuid, uuid, text, integer)")
