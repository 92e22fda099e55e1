"""The y-protocols encoding: round trips, and bad bytes refused with ProtocolError only."""

from __future__ import annotations

import random

import pytest
from pycrdt import Doc, Map, Text

from cowrite.collab import protocol
from cowrite.collab.protocol import (
    AwarenessEntry,
    AwarenessMessage,
    ProtocolError,
    QueryAwareness,
    SyncStep1,
    SyncStep2,
    SyncUpdate,
    parse_frame,
)
from cowrite.collab.updates import ForeignRootError, check_update


@pytest.mark.parametrize("value", [0, 1, 127, 128, 300, 2**31, 2**53 - 1])
def test_varuint_round_trip(value: int) -> None:
    encoded = protocol.write_var_uint(value)
    assert protocol.read_var_uint(encoded + b"\x07", 0) == (value, len(encoded))


def test_truncated_and_overlong_varuints_are_refused() -> None:
    with pytest.raises(ProtocolError):
        protocol.read_var_uint(b"\x80\x80", 0)
    with pytest.raises(ProtocolError):
        protocol.read_var_uint(b"\xff" * 9 + b"\x01", 0)


def test_every_message_kind_parses() -> None:
    frame = (
        protocol.sync_step1(b"\x00")
        + protocol.sync_step2(b"\x00\x00")
        + protocol.sync_update(b"\x01\x02")
        + protocol.awareness_message(b"\x00")
        + bytes([protocol.MESSAGE_QUERY_AWARENESS])
    )
    assert parse_frame(frame) == [
        SyncStep1(b"\x00"),
        SyncStep2(b"\x00\x00"),
        SyncUpdate(b"\x01\x02"),
        AwarenessMessage(b"\x00"),
        QueryAwareness(),
    ]


@pytest.mark.parametrize(
    "frame",
    [b"", b"\x09", b"\x00\x07\x00", b"\x00\x02\x05ab", b"\x01\x80", b"\x00\x02\xff\xff\xff"],
)
def test_malformed_frames_are_refused(frame: bytes) -> None:
    with pytest.raises(ProtocolError):
        parse_frame(frame)


def test_awareness_round_trip() -> None:
    entries = [AwarenessEntry(7, 3, b'{"user":{"name":"A"}}'), AwarenessEntry(9, 1, b"null")]
    decoded = protocol.decode_awareness(protocol.encode_awareness(entries))
    assert decoded == entries
    assert decoded[1].removed and not decoded[0].removed
    with pytest.raises(ProtocolError):
        protocol.decode_awareness(protocol.encode_awareness(entries)[:-2])


def _text_update() -> bytes:
    doc: Doc = Doc()
    text = doc.get("content", type=Text)
    text.insert(0, "hello world")
    text.insert(5, ",", {"bold": True})
    text.insert_embed(0, {"image": "a.png"})
    text.format(0, 3, {"italic": True})
    del text[7:9]
    return doc.get_update()


def test_text_updates_pass_the_check() -> None:
    check_update(_text_update(), "content")


def test_changes_to_other_roots_are_refused() -> None:
    doc: Doc = Doc()
    doc.get("content", type=Text).insert(0, "fine")
    doc.get("settings", type=Map)["theme"] = "dark"
    with pytest.raises(ForeignRootError):
        check_update(doc.get_update(), "content")
    as_map: Doc = Doc()
    as_map.get("content", type=Map)["key"] = 1
    with pytest.raises(ForeignRootError):
        check_update(as_map.get_update(), "content")


def test_mangled_updates_never_escape_as_other_errors() -> None:
    update = _text_update()
    rng = random.Random(5)
    refused = 0
    for _ in range(3000):
        mangled = bytearray(update)
        for _ in range(rng.randint(1, 3)):
            mangled[rng.randrange(len(mangled))] = rng.randrange(256)
        try:
            check_update(bytes(mangled[: rng.randint(0, len(mangled))]), "content")
        except ProtocolError:
            refused += 1
    assert refused > 2900
