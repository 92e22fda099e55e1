"""Anchors as Yjs relative positions (`encodeRelativePosition`, v1) over the `content` text.

A thread's anchor is two positions: the start sticks to the first quoted character (assoc
0), the end to the last one (assoc -1), so text typed at either edge stays outside it and the
anchor moves with every edit. When the positions meet, all the quoted text is gone: orphaned.
Offsets are in code points, as the REST `content` counts; the Yjs text counts UTF-8 bytes.
"""

from __future__ import annotations

import base64
import binascii
from bisect import bisect_left
from dataclasses import dataclass, field
from itertools import accumulate

from pycrdt import Assoc, Doc, StickyIndex, Text, Transaction

from cowrite.collab.room import TEXT_NAME

ASSOC_AFTER = 0
ASSOC_BEFORE = -1
MAX_POSITION_BYTES = 256


class AnchorError(ValueError):
    """An anchor that cannot be placed in this document."""


@dataclass(frozen=True, slots=True)
class StoredAnchor:
    start: bytes
    end: bytes
    quote: str
    start_offset: int
    end_offset: int


@dataclass(frozen=True, slots=True)
class _Position:
    client: int | None  # None: the start or end of the text itself (no item)
    clock: int
    assoc: int


def _read_varuint(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if at >= len(data) or shift > 63:
            raise AnchorError("truncated relative position")
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, at


def _read_varint(data: bytes, at: int) -> tuple[int, int]:
    """lib0's signed varint: sign in bit 6 of the first byte."""
    if at >= len(data):
        raise AnchorError("truncated relative position")
    first = data[at]
    negative = bool(first & 0x40)
    value = first & 0x3F
    at += 1
    shift = 6
    more = bool(first & 0x80)
    while more:
        if at >= len(data) or shift > 63:
            raise AnchorError("truncated relative position")
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        more = bool(byte & 0x80)
    return (-value if negative else value), at


def parse_position(data: bytes, text_name: str) -> _Position:
    """Check an encoded relative position before pycrdt sees it (it aborts on bad input)."""
    if not data or len(data) > MAX_POSITION_BYTES:
        raise AnchorError("empty or oversized relative position")
    kind, at = _read_varuint(data, 0)
    client: int | None = None
    clock = 0
    if kind == 0:
        client, at = _read_varuint(data, at)
        clock, at = _read_varuint(data, at)
    elif kind == 1:
        length, at = _read_varuint(data, at)
        name = data[at : at + length]
        at += length
        if len(name) != length or name.decode("utf-8", "replace") != text_name:
            raise AnchorError("the relative position is not in the document's text")
    else:
        raise AnchorError("the relative position is not in the document's text")
    assoc = ASSOC_AFTER
    if at < len(data):
        assoc, at = _read_varint(data, at)
    if at != len(data) or assoc not in (ASSOC_AFTER, ASSOC_BEFORE):
        raise AnchorError("malformed relative position")
    return _Position(client, clock, assoc)


def decode_base64(value: str) -> bytes:
    try:
        return base64.b64decode(value + "=" * (-len(value) % 4), validate=False)
    except (binascii.Error, ValueError) as exc:
        raise AnchorError("the relative position is not base64") from exc


def _state_vector(doc: Doc) -> dict[int, int]:
    data = doc.get_state()
    count, at = _read_varuint(data, 0)
    known: dict[int, int] = {}
    for _ in range(count):
        client, at = _read_varuint(data, at)
        clock, at = _read_varuint(data, at)
        known[client] = clock
    return known


@dataclass
class TextView:
    """One state of a document's text, for converting many anchors at once."""

    doc: Doc
    text: Text
    content: str = field(init=False)
    _bytes_before: list[int] | None = field(init=False, default=None)
    _known: dict[int, int] | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.content = str(self.text)

    # code points <-> the UTF-8 bytes the Yjs text counts in
    def _table(self) -> list[int]:
        if self._bytes_before is None:
            widths = (
                1 if ch < "\x80" else 2 if ch < "\u0800" else 3 if ch < "\U00010000" else 4
                for ch in self.content
            )
            self._bytes_before = [0, *accumulate(widths)]
        return self._bytes_before

    def to_bytes(self, offset: int) -> int:
        if self.content.isascii():
            return offset
        return self._table()[offset]

    def to_code_points(self, byte_offset: int) -> int:
        if self.content.isascii():
            return byte_offset
        table = self._table()
        return bisect_left(table, byte_offset)

    def _exists(self, position: _Position) -> bool:
        if position.client is None:
            return True
        if self._known is None:
            self._known = _state_vector(self.doc)
        return position.clock < self._known.get(position.client, 0)

    # anchors
    def place(self, start: int, end: int) -> StoredAnchor:
        """An anchor over `content[start:end]` (code points)."""
        if not 0 <= start < end <= len(self.content):
            raise AnchorError(f"the anchor must satisfy 0 <= from < to <= {len(self.content)}")
        begin = self.text.sticky_index(self.to_bytes(start), Assoc.AFTER).encode()
        finish = self.text.sticky_index(self.to_bytes(end), Assoc.BEFORE).encode()
        return StoredAnchor(begin, finish, self.content[start:end], start, end)

    def adopt(self, start: bytes, end: bytes) -> StoredAnchor:
        """An anchor a Yjs client made (`encodeRelativePosition`), checked against this text."""
        with self.doc.transaction() as txn:
            first = self._resolve_one(start, txn)
            last = self._resolve_one(end, txn)
        if first is None or last is None:
            raise AnchorError("the relative position names text this document does not have")
        if not first < last:
            raise AnchorError("the anchor's start must come before its end")
        return StoredAnchor(start, end, self.content[first:last], first, last)

    def _resolve_one(self, data: bytes, txn: Transaction) -> int | None:
        position = parse_position(data, TEXT_NAME)
        if not self._exists(position):
            return None
        index = StickyIndex.decode(data, self.text).get_index(txn)
        return self.to_code_points(index)

    def resolve(self, start: bytes, end: bytes, txn: Transaction) -> tuple[int, int] | None:
        """Where the anchor stands now in code points; None once its text is all gone."""
        try:
            first = self._resolve_one(start, txn)
            last = self._resolve_one(end, txn)
        except AnchorError:
            return None
        if first is None or last is None or first >= last:
            return None
        return first, last
