"""The pieces of Yjs repair: what applying an update really changes, and a room healed from it."""

from __future__ import annotations

import uuid

from pycrdt import Doc, Text

from cowrite.collab.protocol import SyncUpdate, parse_frame
from cowrite.collab.room import Room, apply_and_capture
from tests.collab.fakes import FakeListener, FakePeer


def text_doc(content: str = "") -> tuple[Doc, Text]:
    doc: Doc = Doc()
    text = doc.get("content", type=Text)
    if content:
        text += content
    return doc, text


def test_only_what_changes_the_document_is_captured() -> None:
    source, source_text = text_doc("shared text")
    replica, replica_text = text_doc()
    assert apply_and_capture(replica, source.get_update()) is not None
    assert apply_and_capture(replica, source.get_update()) is None  # known already

    before = source.get_state()
    source_text += " and more"
    added = apply_and_capture(replica, source.get_update())  # the whole state, once more
    assert added is not None and len(added) < len(source.get_update(before)) * 3

    del source_text[0:7]  # a deletion adds no clock, only a visible change
    deletion = source.get_update(replica.get_state())
    assert apply_and_capture(replica, deletion) is not None
    assert apply_and_capture(replica, deletion) is None
    assert str(replica_text) == "text and more"


async def test_a_room_heals_from_stored_state_and_sends_only_what_it_lacked() -> None:
    room = Room(uuid.uuid4(), uuid.uuid4(), FakeListener(), tick_seconds=60)
    stored, stored_text = text_doc("stored")
    room.load([stored.get_update()])
    peer = FakePeer()
    room.join(peer)
    peer.frames.clear()
    assert not room.heal(stored.get_update())
    room.flush()
    assert peer.frames == []

    before = stored.get_update()
    stored_text += " and lost"
    assert room.heal(stored.get_update())
    room.flush()
    assert str(room.text) == "stored and lost"
    assert len(peer.frames) == 1
    (message,) = parse_frame(peer.frames[0])
    assert isinstance(message, SyncUpdate)
    client, client_text = text_doc()
    client.apply_update(before)
    client.apply_update(message.update)  # the missing part alone completes a synced client
    assert str(client_text) == "stored and lost"
    assert len(message.update) < len(stored.get_update())
