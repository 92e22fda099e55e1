"""Anchors as Yjs relative positions (`encodeRelativePosition`, v1) over the `content` text.

A thread's anchor is two positions: the start sticks to the first quoted character (assoc
0), the end to the last one (assoc -1), so text typed at either edge stays outside it and the
anchor moves with every edit. When the positions meet, all the quoted text is gone: orphaned.
Offsets are in code points, as the REST `content` counts.
"""

from __future__ import annotations

import base64
import binascii
from bisect import bisect_left
from dataclasses import dataclass, field
from itertools import accumulate

from pycrdt import Assoc, Doc, StickyIndex, Text, Transaction

from cowrite.collab.room import TEXT_NAME
from cowrite.comments.shadow import ascii_shadow

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


def read_varuint(data: bytes, at: int) -> tuple[int, int]:
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


def read_varint(data: bytes, at: int) -> tuple[int, int]:
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
    kind, at = read_varuint(data, 0)
    client: int | None = None
    clock = 0
    if kind == 0:
        client, at = read_varuint(data, at)
        clock, at = read_varuint(data, at)
    elif kind == 1:
        length, at = read_varuint(data, at)
        name = data[at : at + length]
        at += length
        if len(name) != length or name.decode("utf-8", "replace") != text_name:
            raise AnchorError("the relative position is not in the document's text")
    else:
        raise AnchorError("the relative position is not in the document's text")
    assoc = ASSOC_AFTER
    if at < len(data):
        assoc, at = read_varint(data, at)
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
    count, at = read_varuint(data, 0)
    known: dict[int, int] = {}
    for _ in range(count):
        client, at = read_varuint(data, at)
        clock, at = read_varuint(data, at)
        known[client] = clock
    return known


@dataclass
class TextView:
    """One state of a document's text, for converting many anchors at once.

    Relative positions are made and read on `measured`: the text itself when it is ASCII,
    else its ASCII stand-in (see `shadow`), whose indexes are UTF-16 units."""

    doc: Doc
    text: Text
    content: str = field(init=False)
    measured: Text = field(init=False)
    _units_before: list[int] | None = field(init=False, default=None)
    _known: dict[int, int] | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.content = str(self.text)
        self.measured = self.text
        if not self.content.isascii():
            stand_in: Doc = Doc()
            stand_in.apply_update(ascii_shadow(self.doc.get_update()))
            self.measured = stand_in.get(TEXT_NAME, type=Text)

    # code points <-> the UTF-16 units Yjs counts in
    def _table(self) -> list[int]:
        if self._units_before is None:
            widths = (1 if ch < "\U00010000" else 2 for ch in self.content)
            self._units_before = [0, *accumulate(widths)]
        return self._units_before

    def to_units(self, offset: int) -> int:
        return offset if self.measured is self.text else self._table()[offset]

    def to_code_points(self, units: int) -> int:
        return units if self.measured is self.text else bisect_left(self._table(), units)

    def _exists(self, position: _Position) -> bool:
        if position.client is None:
            return True
        if self._known is None:
            self._known = _state_vector(self.doc)
        return position.clock < self._known.get(position.client, 0)

    def transaction(self) -> Transaction:
        return self.measured.doc.transaction()

    # anchors
    def place(self, start: int, end: int) -> StoredAnchor:
        """An anchor over `content[start:end]` (code points)."""
        if not 0 <= start < end <= len(self.content):
            raise AnchorError(f"the anchor must satisfy 0 <= from < to <= {len(self.content)}")
        begin = self.measured.sticky_index(self.to_units(start), Assoc.AFTER).encode()
        finish = self.measured.sticky_index(self.to_units(end), Assoc.BEFORE).encode()
        return StoredAnchor(begin, finish, self.content[start:end], start, end)

    def adopt(self, start: bytes, end: bytes) -> StoredAnchor:
        """An anchor a Yjs client made (`encodeRelativePosition`), checked against this text."""
        with self.transaction() as txn:
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
        index = StickyIndex.decode(data, self.measured).get_index(txn)
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
