"""The document text anchors are read against: the live room's when it is loaded in this
process, else the stored Yjs state (loaded once per request, never once per comment)."""

from __future__ import annotations

from pycrdt import Doc, Text, merge_updates
from sqlalchemy.ext.asyncio import AsyncSession

from cowrite.collab import repository as collab_repository
from cowrite.collab.room import TEXT_NAME
from cowrite.collab.service import stored_state
from cowrite.comments.anchors import TextView
from cowrite.models import Document
from cowrite.state import AppState


def _doc_of(updates: list[bytes]) -> Doc:
    doc: Doc = Doc()
    if updates:
        doc.apply_update(updates[0] if len(updates) == 1 else merge_updates(*updates))
    return doc


async def text_view(
    state: AppState, session: AsyncSession, document: Document, *, seed: bool = False
) -> TextView:
    """`seed` (writes only): give a document that never had Yjs state its first snapshot, so
    anchors placed now name items that are stored."""
    rooms = getattr(state.collab, "rooms", None) or {}
    room = rooms.get(document.id)
    if room is not None:
        return TextView(room.doc, room.text)
    if seed:
        updates = await stored_state(session, document.id, document.content)
    else:
        snapshot = await collab_repository.snapshot_state(session, document.id)
        updates = []
        if snapshot is not None:
            updates = [snapshot, *await collab_repository.log_updates(session, document.id)]
    doc = _doc_of(updates)
    return TextView(doc, doc.get(TEXT_NAME, type=Text))
