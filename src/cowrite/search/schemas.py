"""Response bodies of the search endpoint."""

from __future__ import annotations

import uuid

from pydantic import BaseModel


class SearchHit(BaseModel):
    document_id: uuid.UUID
    workspace_id: uuid.UUID
    title: str
    # HTML-escaped text of the body around the matches, which are wrapped in <mark>…</mark>.
    snippet: str
    # Higher is better; comparable within one answer only.
    score: float
    # Set when the hit is a comment on the document (searched with `in:comments`).
    comment_id: uuid.UUID | None = None


class SearchOut(BaseModel):
    items: list[SearchHit]
