"""Anchor offsets of the rooms live in this process, kept up to date from their text events.

Resolving a stored relative position walks every item to its left, which on a document that
many people type into costs tens of milliseconds per few hundred anchors. A live room's anchors
are resolved once (in a worker thread, on a copy of its state) and from then on moved by each
edit's delta, the way the relative positions themselves move: an insertion at an anchor's start
lands before it, one at its end stays outside it, a deletion pulls both ends to where it was.
Offsets here are in the Yjs text's own units (UTF-8 bytes in pycrdt)."""

from __future__ import annotations

import asyncio
import uuid
import weakref
from typing import Any

MAX_TRACKED = 20_000  # anchors per room; past it the room is resolved afresh


class RoomAnchors:
    def __init__(self, text: Any) -> None:
        self.lock = asyncio.Lock()  # one batch of anchors resolved at a time
        self.starts: dict[uuid.UUID, int] = {}
        self.ends: dict[uuid.UUID, int] = {}
        # Anchors whose first or last character was deleted: the deleted item's place among
        # later insertions decides where they stand, which a delta does not tell; those are
        # resolved afresh every time.
        self.fragile: set[uuid.UUID] = set()
        # Deltas seen while a batch of anchors is being resolved off the loop.
        self._recording: list[list[dict[str, Any]]] | None = None
        self._subscription = text.observe(self._on_change)

    def _on_change(self, event: Any) -> None:
        delta = event.delta
        if self._recording is not None:
            self._recording.append(delta)
        if self.starts:
            _apply(delta, self.starts, self.ends, self.fragile)
            for key in self.fragile.intersection(self.starts):
                del self.starts[key], self.ends[key]

    def record(self) -> None:
        self._recording = []

    def adopt(
        self, found: dict[uuid.UUID, tuple[int, int] | None]
    ) -> dict[uuid.UUID, tuple[int, int] | None]:
        """Resolved positions (as of when `record` was called), moved by what came since; the
        ones that can be followed from now on join the tracked."""
        starts = {key: pos[0] for key, pos in found.items() if pos is not None}
        ends = {key: pos[1] for key, pos in found.items() if pos is not None}
        fragile = {key for key, pos in found.items() if pos is None}
        for delta in self._recording or []:
            _apply(delta, starts, ends, fragile)
        self._recording = None
        moved = {
            key: (starts[key], ends[key]) if key in starts and starts[key] < ends[key] else None
            for key in found
        }
        if len(self.starts) + len(starts) > MAX_TRACKED:
            self.starts.clear()
            self.ends.clear()
        self.fragile |= fragile
        for key in starts.keys() - self.fragile:
            self.starts[key], self.ends[key] = starts[key], ends[key]
        return moved

    def add(self, key: uuid.UUID, start: int, end: int) -> None:
        self.starts[key] = start
        self.ends[key] = end

    def get(self, key: uuid.UUID) -> tuple[int, int] | bool | None:
        """(start, end); None when orphaned; False when not tracked."""
        start = self.starts.get(key)
        if start is None:
            return False
        end = self.ends[key]
        return (start, end) if start < end else None


def _apply(
    delta: list[dict[str, Any]],
    starts: dict[uuid.UUID, int],
    ends: dict[uuid.UUID, int],
    fragile: set[uuid.UUID],
) -> None:
    at = 0
    for op in delta:
        if "retain" in op:
            at += op["retain"]
        elif "insert" in op:
            inserted = op["insert"]
            length = len(inserted.encode()) if isinstance(inserted, str) else 1
            for key, start in starts.items():
                if at <= start:
                    starts[key] = start + length
            for key, end in ends.items():
                if at < end:
                    ends[key] = end + length
            at += length
        elif "delete" in op:
            gone = op["delete"]
            for key, start in starts.items():
                if at <= start < at + gone or at < ends[key] <= at + gone:
                    fragile.add(key)
            for positions in (starts, ends):
                for key, value in positions.items():
                    if value >= at + gone:
                        positions[key] = value - gone
                    elif value > at:
                        positions[key] = at


_tracked: weakref.WeakKeyDictionary[Any, RoomAnchors] = weakref.WeakKeyDictionary()


def tracker(room: Any) -> RoomAnchors:
    """The live room's tracker, made on first use; it goes when the room is unloaded."""
    found = _tracked.get(room)
    if found is None:
        found = _tracked[room] = RoomAnchors(room.text)
    return found
