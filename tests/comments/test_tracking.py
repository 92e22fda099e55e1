"""A live room's anchor offsets, moved by its edits, agree with resolving the stored relative
positions afresh (the truth after a restart)."""

from __future__ import annotations

import asyncio
import random
import uuid
from dataclasses import dataclass, field

import pytest
from pycrdt import Doc, Text

from cowrite.collab.room import TEXT_NAME
from cowrite.comments.anchors import TextView
from cowrite.comments.tracking import tracker
from cowrite.comments.views import _live_positions, _resolve_all

WORDS = ["alpha", "béta", "🎉", "gamma ", "δέλτα", "x", "\n", "naïve "]


@dataclass(eq=False)
class FakeRoom:
    doc: Doc = field(default_factory=Doc)

    @property
    def text(self) -> Text:
        return self.doc.get(TEXT_NAME, type=Text)


def _edit(rng: random.Random, text: Text) -> None:
    content = str(text)
    at = rng.randrange(len(content) + 1)
    byte_at = len(content[:at].encode())
    if rng.random() < 0.6 or len(content) < 10:
        text.insert(byte_at, rng.choice(WORDS))
    else:
        span = rng.randrange(1, 6)
        end = len(content[: at + span].encode())
        del text[byte_at:end]


@pytest.mark.parametrize("seed", [7, 11, 23])
async def test_tracked_offsets_match_a_fresh_resolution(seed: int) -> None:
    rng = random.Random(seed)
    room = FakeRoom()
    room.text.insert(0, "Hello wörld, this is 🎉 a text with ünïcode in it. " * 20)
    peers = [Doc() for _ in range(3)]
    view = TextView(room.doc, room.text)
    length = len(view.content)
    anchors = []
    for _ in range(40):
        start = rng.randrange(length - 1)
        end = min(length, start + rng.randrange(1, 12))
        placed = view.place(start, end)
        anchors.append((uuid.uuid4(), placed.start, placed.end))
    await _live_positions(room, anchors)  # starts tracking
    for round_ in range(60):
        # Local edits and concurrent edits from peers that merge into the room.
        for peer in peers:
            peer.apply_update(room.doc.get_update(peer.get_state()))
        for _ in range(3):
            _edit(rng, room.text)
        for peer in peers:
            _edit(rng, peer.get(TEXT_NAME, type=Text))
            room.doc.apply_update(peer.get_update(room.doc.get_state()))
        if round_ % 10 == 9:
            tracked = await _live_positions(room, anchors)
            fresh = await asyncio.to_thread(
                _resolve_all, [room.doc.get_update()], anchors, units=False
            )
            assert tracked == fresh
    # Most anchors were followed by their deltas, not resolved again.
    followed = tracker(room).starts.keys() & {row[0] for row in anchors}
    assert len(followed) >= len(anchors) // 4, len(followed)
