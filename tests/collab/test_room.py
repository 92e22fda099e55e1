"""A room over fake peers: per-tick merged fan-out, refusals, awareness without ghosts."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from pycrdt import Doc, Map, Text

from cowrite.collab import protocol
from cowrite.collab.protocol import (
    AwarenessEntry,
    ProtocolError,
    SyncStep1,
    SyncStep2,
    SyncUpdate,
    parse_frame,
)
from cowrite.collab.room import FAN_OUT_CHUNK, Room
from cowrite.collab.updates import ForeignRootError
from tests.collab.fakes import FakeListener, FakePeer, edit


def _room(listener: FakeListener | None = None) -> Room:
    return Room(uuid.uuid4(), uuid.uuid4(), listener or FakeListener(), tick_seconds=60)


async def test_a_tick_of_updates_goes_out_as_one_frame_without_echo() -> None:
    listener = FakeListener()
    room = _room(listener)
    alice, bob, carol = FakePeer(), FakePeer(), FakePeer()
    for peer in (alice, bob, carol):
        room.join(peer)
        peer.frames.clear()
    _, first = edit(None, 0, "hello")
    room.receive(alice, SyncUpdate(first))
    _, second = edit(None, 0, "world")
    room.receive(bob, SyncUpdate(second))
    room.flush()
    assert len(carol.frames) == 1  # both updates, merged into one frame
    assert sorted(carol.text()) == sorted("helloworld")
    assert alice.text() == "world"  # only what alice did not write herself
    assert bob.text() == "hello"
    assert [author for _, author in listener.accepted] == [alice.user_id, bob.user_id]
    assert len(listener.published) == 1


async def test_local_updates_reach_other_processes_on_the_next_loop_turn_not_the_tick() -> None:
    listener = FakeListener()
    room = _room(listener)
    alice, bob = FakePeer(), FakePeer()
    for peer in (alice, bob):
        room.join(peer)
        peer.frames.clear()
    _, first = edit(None, 0, "one")
    _, second = edit(None, 0, "two")
    room.receive(alice, SyncUpdate(first))
    room.receive(bob, SyncUpdate(second))
    room.apply_remote(protocol.sync_update(edit(None, 0, "remote")[1]))
    assert listener.published == []
    await asyncio.sleep(0)
    assert len(listener.published) == 1  # both local updates merged; the remote one is not sent
    sent = Doc()
    for message in parse_frame(listener.published[0]):
        assert isinstance(message, SyncUpdate)
        sent.apply_update(message.update)
    assert sorted(str(sent.get("content", type=Text))) == sorted("onetwo")
    # Local peers get the same turn's batch, each without its own update (and with the remote
    # one); nothing goes to the other processes twice.
    assert len(alice.frames) == 1 and len(bob.frames) == 1
    assert b"one" not in alice.frames[0] and b"two" not in bob.frames[0]
    room.flush()
    assert len(listener.published) == 1


async def test_a_process_alone_prepares_nothing_for_other_processes() -> None:
    listener = FakeListener(shared=False)
    room = _room(listener)
    peer = FakePeer()
    room.join(peer)
    room.receive(FakePeer(), SyncUpdate(edit(None, 0, "alone")[1]))
    await asyncio.sleep(0)
    room.flush()
    assert listener.published == []
    assert peer.text() == "alone"


async def test_joining_sends_the_state_vector_and_answers_sync_step1() -> None:
    room = _room()
    writer = FakePeer()
    room.join(writer)
    _, update = edit(None, 0, "existing")
    room.receive(writer, SyncUpdate(update))
    room.flush()
    newcomer = FakePeer()
    room.join(newcomer)
    assert isinstance(parse_frame(newcomer.frames[0])[0], protocol.SyncStep1)
    room.receive(newcomer, protocol.SyncStep1(b"\x00"))
    assert newcomer.text() == "existing"


async def test_a_viewer_updates_are_not_applied_stored_or_relayed() -> None:
    listener = FakeListener()
    room = _room(listener)
    viewer, editor = FakePeer(can_write=False), FakePeer()
    room.join(viewer)
    room.join(editor)
    editor.frames.clear()
    _, update = edit(None, 0, "sneaky")
    room.receive(viewer, SyncUpdate(update))
    room.flush()
    assert str(room.text) == ""
    assert listener.accepted == []
    assert editor.frames == []


async def test_bad_updates_are_refused_and_leave_the_document_untouched() -> None:
    room = _room()
    peer = FakePeer()
    room.join(peer)
    _, good = edit(None, 0, "keep")
    room.receive(peer, SyncUpdate(good))
    with pytest.raises(ProtocolError):
        room.receive(peer, SyncUpdate(b"\x01\x05garbage"))
    other: Doc = Doc()
    other.get("meta", type=Map)["x"] = 1
    with pytest.raises(ForeignRootError):
        room.receive(peer, SyncUpdate(other.get_update()))
    assert str(room.text) == "keep"
    assert list(room.doc.keys()) == ["content"]


async def test_awareness_is_relayed_and_removed_when_its_peer_leaves() -> None:
    room = _room()
    alice, bob = FakePeer(), FakePeer()
    room.join(alice)
    room.join(bob)
    state = AwarenessEntry(42, 1, b'{"user":{"name":"Alice"}}')
    room.receive(alice, protocol.AwarenessMessage(protocol.encode_awareness([state])))
    room.flush()
    relayed = parse_frame(bob.frames[-1])[0]
    assert isinstance(relayed, protocol.AwarenessMessage)
    assert protocol.decode_awareness(relayed.payload) == [state]
    carol = FakePeer()
    room.join(carol)  # a newcomer is told who is here
    assert protocol.AwarenessMessage(protocol.encode_awareness([state])) in [
        message for frame in carol.frames for message in parse_frame(frame)
    ]
    room.leave(alice)
    room.flush()
    removal = parse_frame(bob.frames[-1])[0]
    assert isinstance(removal, protocol.AwarenessMessage)
    assert protocol.decode_awareness(removal.payload) == [AwarenessEntry(42, 2, b"null")]


async def test_a_peer_cannot_overwrite_another_peers_awareness() -> None:
    room = _room()
    alice, mallory = FakePeer(), FakePeer()
    room.join(alice)
    room.join(mallory)
    room.receive(
        alice,
        protocol.AwarenessMessage(
            protocol.encode_awareness([AwarenessEntry(42, 1, b'{"name":"Alice"}')])
        ),
    )
    room.receive(
        mallory,
        protocol.AwarenessMessage(protocol.encode_awareness([AwarenessEntry(42, 5, b"null")])),
    )
    room.flush()
    assert 42 in alice.awareness_ids and 42 not in mallory.awareness_ids
    room.receive(mallory, protocol.QueryAwareness())
    answer = parse_frame(mallory.frames[-1])[0]
    assert isinstance(answer, protocol.AwarenessMessage)
    assert protocol.decode_awareness(answer.payload)[0].state == b'{"name":"Alice"}'


async def test_frames_from_other_processes_are_applied_but_not_republished() -> None:
    listener = FakeListener()
    room = _room(listener)
    peer = FakePeer()
    room.join(peer)
    peer.frames.clear()
    _, update = edit(None, 0, "remote")
    room.apply_remote(protocol.sync_update(update))
    room.flush()
    assert peer.text() == "remote"
    assert listener.published == [] and listener.accepted == []


async def test_a_large_room_is_served_in_chunks_and_every_peer_gets_every_tick_in_order() -> None:
    room = _room()
    peers = [FakePeer() for _ in range(FAN_OUT_CHUNK + 44)]
    for peer in peers:
        room.join(peer)
        peer.frames.clear()
    state = None
    for word in ("one ", "two ", "three "):
        client, update = edit(state, 0, word)
        state = client.get_update()
        room.apply_remote(protocol.sync_update(update))
        room.flush()
    served_at_once = [peer for peer in peers if peer.frames]
    assert 0 < len(served_at_once) < len(peers)  # the rest wait for the next loop turns
    for _ in range(20):
        await asyncio.sleep(0)
    first = served_at_once[0].frames
    assert len(first) == 3
    assert all(peer.frames == first for peer in peers)
    assert peers[-1].text() == str(room.text)


async def test_awareness_clocks_go_with_the_clients_that_leave() -> None:
    room = _room()
    for client_id in range(200):
        peer = FakePeer()
        room.join(peer)
        entry = AwarenessEntry(client_id, 1, b'{"user":"x"}')
        room.apply_awareness(protocol.encode_awareness([entry]), peer, local=True)
        room.leave(peer)
    room.flush()
    assert not room._awareness and not room._awareness_clock


async def test_an_awareness_message_with_too_many_entries_is_refused() -> None:
    room = _room()
    peer = FakePeer()
    room.join(peer)
    removals = [AwarenessEntry(client_id, 1, protocol.NULL_STATE) for client_id in range(65)]
    with pytest.raises(protocol.LimitExceeded):
        room.apply_awareness(protocol.encode_awareness(removals), peer, local=True)
    assert not room._awareness_clock


async def test_a_peer_that_syncs_while_a_batch_is_pending_gets_it_once() -> None:
    room = _room()
    reader = FakePeer(can_write=False)
    room.join(reader)
    _, update = edit(None, 0, "typed")
    room.apply_remote(protocol.sync_update(update))  # pending, not fanned out yet
    reader.frames.clear()
    room.receive(reader, SyncStep1(b"\x00"))  # the answer holds the pending update
    room.flush()
    await asyncio.sleep(0)
    updates = [
        message
        for frame in reader.frames
        for message in parse_frame(frame)
        if isinstance(message, SyncUpdate | SyncStep2)
    ]
    assert len(updates) == 1
    assert reader.text() == "typed"
