"""The document text anchors are read against: the live room's when it is loaded in this
process, else the stored Yjs state (loaded once per request, never once per comment).

Resolving a relative position walks the items before it, so many anchors on a much-edited
document take a while: answers copy the state (one Rust call on the event loop) and resolve
every anchor of the request in a worker thread, on a document made and dropped there, so the
co-editing loop never waits for them."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence

from pycrdt import Doc, Text, merge_updates
from sqlalchemy.ext.asyncio import AsyncSession

from cowrite.collab import repository as collab_repository
from cowrite.collab.room import TEXT_NAME
from cowrite.collab.service import stored_state
from cowrite.comments.anchors import TextView
from cowrite.models import Document
from cowrite.state import AppState

# (comment id, start position, end position) in; (from, to) in code points or None out.
AnchorRow = tuple[uuid.UUID, bytes, bytes]
Positions = dict[uuid.UUID, tuple[int, int] | None]


def _doc_of(updates: Sequence[bytes]) -> Doc:
    doc: Doc = Doc()
    if updates:
        doc.apply_update(updates[0] if len(updates) == 1 else merge_updates(*updates))
    return doc


def _live_room(state: AppState, document_id: uuid.UUID) -> object | None:
    rooms = getattr(state.collab, "rooms", None) or {}
    return rooms.get(document_id)


async def text_view(
    state: AppState, session: AsyncSession, document: Document, *, seed: bool = False
) -> TextView:
    """A view to place one anchor on; `seed` gives a document that never had Yjs state its
    first snapshot, so anchors placed now name items that are stored."""
    room = _live_room(state, document.id)
    if room is not None:
        return TextView(room.doc, room.text)  # type: ignore[attr-defined]  # a collab Room
    updates = await _stored(session, document, seed=seed)
    doc = _doc_of(updates)
    return TextView(doc, doc.get(TEXT_NAME, type=Text))


async def _stored(session: AsyncSession, document: Document, *, seed: bool) -> list[bytes]:
    if seed:
        return await stored_state(session, document.id, document.content)
    snapshot = await collab_repository.snapshot_state(session, document.id)
    if snapshot is None:
        return []
    return [snapshot, *await collab_repository.log_updates(session, document.id)]


def _resolve_all(updates: list[bytes], anchors: list[AnchorRow]) -> Positions:
    """Runs in a worker thread: everything pycrdt made here is dropped here."""
    doc = _doc_of(updates)
    view = TextView(doc, doc.get(TEXT_NAME, type=Text))
    found: Positions = {}
    with view.transaction() as txn:
        for comment_id, start, end in anchors:
            found[comment_id] = view.resolve(start, end, txn)
    del txn, view, doc
    return found


async def resolve_anchors(
    state: AppState, session: AsyncSession, document: Document, anchors: list[AnchorRow]
) -> Positions:
    """Where each anchor stands now (None: orphaned)."""
    if not anchors:
        return {}
    room = _live_room(state, document.id)
    if room is not None:
        updates = [room.doc.get_update()]  # type: ignore[attr-defined]  # a collab Room
    else:
        updates = await _stored(session, document, seed=False)
    return await asyncio.to_thread(_resolve_all, updates, anchors)
