"""The document text anchors are read against: the live room's when it is loaded in this
process, else the stored Yjs state (loaded once per request, never once per comment).

Resolving a relative position walks the items before it, so many anchors on a much-edited
document take a while: anchors are resolved in a worker thread, on a document made from a copy
of the state and dropped there; a live room's anchors only once, and then kept up to date from
its edits (see `tracking`)."""

from __future__ import annotations

import asyncio
import uuid
from bisect import bisect_left
from collections.abc import Sequence
from itertools import accumulate

from pycrdt import Doc, Text, merge_updates
from sqlalchemy.ext.asyncio import AsyncSession

from cowrite.collab import repository as collab_repository
from cowrite.collab.formats import RICH
from cowrite.collab.room import TEXT_NAME
from cowrite.collab.service import stored_state
from cowrite.comments.anchors import AnchorError, TextView
from cowrite.comments.fragment import FragmentView
from cowrite.comments.tracking import tracker
from cowrite.models import Document
from cowrite.state import AppState, LiveDocument

# (comment id, start position, end position) in; (from, to) in code points or None out.
AnchorRow = tuple[uuid.UUID, bytes, bytes]
Positions = dict[uuid.UUID, tuple[int, int] | None]


def _doc_of(updates: Sequence[bytes]) -> Doc:
    doc: Doc = Doc()
    if updates:
        doc.apply_update(updates[0] if len(updates) == 1 else merge_updates(*updates))
    return doc


def _live_room(state: AppState, document_id: uuid.UUID) -> LiveDocument | None:
    return state.collab.live_room(document_id) if state.collab is not None else None


async def text_view(
    state: AppState, session: AsyncSession, document: Document, *, seed: bool = False
) -> TextView | FragmentView:
    """A view to place one anchor on; `seed` gives a document that never had Yjs state its
    first snapshot, so anchors placed now name items that are stored."""
    room = _live_room(state, document.id)
    if document.format == RICH:
        if room is not None:
            update = room.doc.get_update()
        else:
            update = _merged(await _stored(session, document, seed=seed))
        return await asyncio.to_thread(_fragment_view, update)
    if room is not None:
        return TextView(room.doc, room.text)
    updates = await _stored(session, document, seed=seed)
    doc = _doc_of(updates)
    return TextView(doc, doc.get(TEXT_NAME, type=Text))


def _merged(updates: Sequence[bytes]) -> bytes:
    if not updates:
        return Doc().get_update()
    return updates[0] if len(updates) == 1 else merge_updates(*updates)


def _fragment_view(update: bytes) -> FragmentView:
    return FragmentView(_doc_of([update]))


def _resolve_in_fragment(update: bytes, anchors: list[AnchorRow]) -> Positions:
    """Runs in a worker thread, like `_resolve_all`: code points of the plain text."""
    try:
        view = _fragment_view(update)
    except AnchorError:
        return {row[0]: None for row in anchors}
    found: Positions = {}
    with view.transaction() as txn:
        for comment_id, start, end in anchors:
            found[comment_id] = view.resolve(start, end, txn)
    del txn, view
    return found


async def _stored(session: AsyncSession, document: Document, *, seed: bool) -> list[bytes]:
    if seed:
        return await stored_state(session, document.id, document.content, document.format)
    snapshot = await collab_repository.snapshot_state(session, document.id)
    if snapshot is None:
        return []
    return [snapshot, *await collab_repository.log_updates(session, document.id)]


def _resolve_all(updates: list[bytes], anchors: list[AnchorRow], *, units: bool) -> Positions:
    """Runs in a worker thread: everything pycrdt made here is dropped here. Code points, or
    with `units` the Yjs text's own index units (UTF-8 bytes)."""
    doc = _doc_of(updates)
    view = TextView(doc, doc.get(TEXT_NAME, type=Text))
    found: Positions = {}
    with view.transaction() as txn:
        for comment_id, start, end in anchors:
            found[comment_id] = view.resolve(start, end, txn)
    if units and not view.content.isascii():
        table = _utf8_offsets(view.content)
        found = {k: None if v is None else (table[v[0]], table[v[1]]) for k, v in found.items()}
    del txn, view, doc
    return found


def _utf8_offsets(text: str) -> list[int]:
    """UTF-8 bytes before each code point (and the end)."""
    widths = (
        1 if ch < "\x80" else 2 if ch < "\u0800" else 3 if ch < "\U00010000" else 4 for ch in text
    )
    return [0, *accumulate(widths)]


async def _live_positions(room: LiveDocument, anchors: list[AnchorRow]) -> Positions:
    """From the room's tracker; the anchors it does not know yet are resolved first."""
    track = tracker(room)
    async with track.lock:
        missing = [row for row in anchors if track.get(row[0]) is False]
        fresh: Positions = {}
        if missing:
            update = room.doc.get_update()
            track.record()
            try:
                found = await asyncio.to_thread(_resolve_all, [update], missing, units=True)
            except BaseException:
                track.adopt({})
                raise
            fresh = track.adopt(found)
        # No await from here on: the offsets and the text are read at the same moment.
        current = {
            row[0]: fresh[row[0]] if row[0] in fresh else track.get(row[0]) for row in anchors
        }
    content = str(room.text)
    if content.isascii():
        return {k: v if isinstance(v, tuple) else None for k, v in current.items()}
    table = _utf8_offsets(content)
    return {
        k: (bisect_left(table, v[0]), bisect_left(table, v[1])) if isinstance(v, tuple) else None
        for k, v in current.items()
    }


async def resolve_anchors(
    state: AppState, session: AsyncSession, document: Document, anchors: list[AnchorRow]
) -> Positions:
    """Where each anchor stands now (None: orphaned)."""
    if not anchors:
        return {}
    room = _live_room(state, document.id)
    if document.format == RICH:
        # Read afresh each time (a live room's text nodes are not tracked edit by edit).
        if room is not None:
            update = room.doc.get_update()
        else:
            update = _merged(await _stored(session, document, seed=False))
        return await asyncio.to_thread(_resolve_in_fragment, update, anchors)
    if room is not None:
        return await _live_positions(room, anchors)
    updates = await _stored(session, document, seed=False)
    return await asyncio.to_thread(_resolve_all, updates, anchors, units=False)
