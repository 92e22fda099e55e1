"""Anchors inside a rich document's fragment: Yjs relative positions on the `Y.XmlText` nodes
that hold its text, as a Tiptap client makes them (`Y.createRelativePositionFromTypeIndex` on
the text node), found again however the document changed.

pycrdt makes and reads relative positions on texts, not on XML texts, and tells an index but
not which text it is in. So anchors are read on a stand-in of the document: the same items
(same clients, same clocks), each XML element an array and each XML text a text, every string
ASCII of its UTF-16 length (see `shadow`). A position names an item; the item's parent, worked
out from the update (an item without origins names it, one with an origin shares its origin's),
is the text it is in.

Offsets answered to REST are in the document's plain text: each text node's characters in
document order, one newline between text nodes (code points, like `content`)."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from itertools import accumulate

from pycrdt import (
    Array,
    Assoc,
    Doc,
    StickyIndex,
    Text,
    Transaction,
    XmlElement,
    XmlFragment,
    XmlText,
)

from cowrite.collab.protocol import ProtocolError, read_var_bytes, read_var_uint, write_var_bytes
from cowrite.collab.updates import skip_content
from cowrite.comments.anchors import (
    ASSOC_AFTER,
    ASSOC_BEFORE,
    MAX_POSITION_BYTES,
    AnchorError,
    StoredAnchor,
    read_varint,
    read_varuint,
)
from cowrite.comments.shadow import utf16_length
from cowrite.richtext.schema import FRAGMENT_NAME

_BITS5 = 0x1F
_HAS_ORIGIN = 0x80
_HAS_RIGHT_ORIGIN = 0x40
_HAS_PARENT_SUB = 0x20
# Content refs (Yjs' UpdateDecoderV1) and type refs of `ContentType`.
_GC, _DELETED, _STRING, _TYPE, _ANY, _SKIP = 0, 1, 4, 7, 8, 10
_ARRAY, _MAP, _TEXT, _XML_ELEMENT, _XML_FRAGMENT, _XML_HOOK, _XML_TEXT = range(7)
_STAND_IN = {_XML_ELEMENT: _ARRAY, _XML_FRAGMENT: _ARRAY, _XML_HOOK: _MAP, _XML_TEXT: _TEXT}

Id = tuple[int, int]
Parent = str | Id  # a root's name, or the id of the item that holds the type


@dataclass(slots=True)
class _Run:
    """Consecutive structs of one client, as the update lists them."""

    clocks: list[int] = field(default_factory=list)  # each struct's first clock
    lengths: list[int] = field(default_factory=list)
    # An item's explicit parent, or the id of its origin (left, else right) to take it from.
    parents: list[Parent | None] = field(default_factory=list)
    origins: list[Id | None] = field(default_factory=list)


def stand_in(update: bytes) -> tuple[bytes, dict[int, _Run]]:
    """The stand-in update (see the module's note) and each client's structs."""
    out: list[bytes] = []
    runs: dict[int, _Run] = {}
    pos = mark = 0
    clients, pos = read_var_uint(update, pos)
    for _ in range(clients):
        structs, pos = read_var_uint(update, pos)
        client, pos = read_var_uint(update, pos)
        clock, pos = read_var_uint(update, pos)
        run = runs.setdefault(client, _Run())
        for _ in range(structs):
            info = update[pos]
            pos += 1
            ref = info & _BITS5
            if ref in (_GC, _SKIP):
                length, pos = read_var_uint(update, pos)
                run.clocks.append(clock)
                run.lengths.append(length)
                run.parents.append(None)
                run.origins.append(None)
                clock += length
                continue
            origin: Id | None = None
            right: Id | None = None
            parent: Parent | None = None
            if info & _HAS_ORIGIN:
                origin_client, pos = read_var_uint(update, pos)
                origin_clock, pos = read_var_uint(update, pos)
                origin = (origin_client, origin_clock)
            if info & _HAS_RIGHT_ORIGIN:
                right_client, pos = read_var_uint(update, pos)
                right_clock, pos = read_var_uint(update, pos)
                right = (right_client, right_clock)
            if not info & (_HAS_ORIGIN | _HAS_RIGHT_ORIGIN):
                named, pos = read_var_uint(update, pos)
                if named == 1:
                    name, pos = read_var_bytes(update, pos)
                    parent = name.decode("utf-8", "replace")
                else:
                    parent_client, pos = read_var_uint(update, pos)
                    parent_clock, pos = read_var_uint(update, pos)
                    parent = (parent_client, parent_clock)
                if info & _HAS_PARENT_SUB:
                    _, pos = read_var_bytes(update, pos)
            length = 1
            if ref == _STRING:
                raw, end = read_var_bytes(update, pos)
                text = raw.decode("utf-8", "surrogatepass")
                length = utf16_length(text)
                if not text.isascii():
                    out.append(update[mark:pos])
                    out.append(write_var_bytes(b"x" * length))
                    mark = end
                pos = end
            elif ref == _TYPE:
                start = pos
                type_ref, pos = read_var_uint(update, pos)
                if type_ref in (_XML_ELEMENT, _XML_HOOK):
                    _, pos = read_var_bytes(update, pos)
                if type_ref in _STAND_IN:
                    out.append(update[mark:start])
                    out.append(bytes([_STAND_IN[type_ref]]))
                    mark = pos
            else:
                if ref in (_DELETED, _ANY):  # a run of deleted items, or of values
                    length, _ = read_var_uint(update, pos)
                pos = skip_content(update, pos, ref)
            run.clocks.append(clock)
            run.lengths.append(length)
            run.parents.append(parent)
            run.origins.append(origin or right)
            clock += length
    out.append(update[mark:])
    return b"".join(out), runs


class _Parents:
    """Which type holds each item (following origins, memoized per struct)."""

    def __init__(self, runs: dict[int, _Run]) -> None:
        self.runs = runs

    def _slot(self, item: Id) -> tuple[_Run, int] | None:
        run = self.runs.get(item[0])
        if run is None:
            return None
        index = bisect_right(run.clocks, item[1]) - 1
        if index < 0 or item[1] >= run.clocks[index] + run.lengths[index]:
            return None
        return run, index

    def of(self, item: Id) -> Parent | None:
        chain: list[tuple[_Run, int]] = []
        found: Parent | None = None
        current: Id | None = item
        seen = 0
        while current is not None:
            slot = self._slot(current)
            if slot is None:
                break
            run, index = slot
            parent = run.parents[index]
            if parent is not None:
                found = parent
                break
            chain.append(slot)
            current = run.origins[index]
            seen += 1
            if seen > 10_000_000:
                raise AnchorError("the document's items loop")
        for run, index in chain:  # remember the answer along the way
            run.parents[index] = found
            run.origins[index] = None
        return found


def _position(data: bytes) -> tuple[int, Id | str, int]:
    """(kind, the item or type id or root name, assoc) of an encoded relative position."""
    if not data or len(data) > MAX_POSITION_BYTES:
        raise AnchorError("empty or oversized relative position")
    kind, at = read_varuint(data, 0)
    named: Id | str
    if kind in (0, 2):
        client, at = read_varuint(data, at)
        clock, at = read_varuint(data, at)
        named = (client, clock)
    elif kind == 1:
        length, at = read_varuint(data, at)
        raw = data[at : at + length]
        at += length
        if len(raw) != length:
            raise AnchorError("truncated relative position")
        named = raw.decode("utf-8", "replace")
    else:
        raise AnchorError("malformed relative position")
    assoc = ASSOC_AFTER
    if at < len(data):
        assoc, at = read_varint(data, at)
    if at != len(data) or assoc not in (ASSOC_AFTER, ASSOC_BEFORE):
        raise AnchorError("malformed relative position")
    return kind, named, assoc


def _type_id(text: Text) -> Id:
    """The id of the item that holds a nested text (what a position at its very start names)."""
    kind, named, _ = _position(StickyIndex.new(text, 0, Assoc.BEFORE).encode())
    if kind != 2 or not isinstance(named, tuple):
        raise AnchorError("the text is not inside the document's tree")
    return named


def _texts_of(node: XmlFragment | XmlElement | Array) -> list[XmlText | Text]:
    """The text nodes under `node`, in document order."""
    found: list[XmlText | Text] = []
    stack: list[XmlFragment | XmlElement | Array | XmlText | Text] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, XmlText | Text):
            found.append(current)
            continue
        children = list(current.children if not isinstance(current, Array) else current)
        stack.extend(
            reversed([c for c in children if isinstance(c, XmlElement | XmlText | Array | Text)])
        )
    return found


def _plain(text: XmlText) -> str:
    return "".join(chunk for chunk, _ in text.diff() if isinstance(chunk, str))


class FragmentView:
    """One state of a rich document, for placing and finding anchors in its text nodes."""

    def __init__(self, doc: Doc) -> None:
        self.doc = doc
        try:
            shadow_update, runs = stand_in(doc.get_update())
        except (ProtocolError, IndexError, UnicodeDecodeError) as exc:
            raise AnchorError("the document's state cannot be read") from exc
        self._parents = _Parents(runs)
        self._shadow: Doc = Doc()
        self._shadow.apply_update(shadow_update)
        real = _texts_of(doc.get(FRAGMENT_NAME, type=XmlFragment))
        measured = _texts_of(self._shadow.get(FRAGMENT_NAME, type=Array))
        if len(real) != len(measured):
            raise AnchorError("the document's text nodes cannot be matched")
        self._texts: list[Text] = [t for t in measured if isinstance(t, Text)]
        self._ids = {_type_id(text): n for n, text in enumerate(self._texts)}
        strings = [_plain(t) for t in real if isinstance(t, XmlText)]
        self.content = "\n".join(strings)
        # Where each text node starts in the plain text (code points).
        self._starts = [0, *accumulate(len(s) + 1 for s in strings)]
        self._strings = strings

    def transaction(self) -> Transaction:
        return self._shadow.transaction()

    def _units(self, node: int, offset: int) -> int:
        """Code points into text node `node` -> its UTF-16 units."""
        string = self._strings[node]
        return offset if string.isascii() else utf16_length(string[:offset])

    def _code_points(self, node: int, units: int) -> int:
        string = self._strings[node]
        if string.isascii():
            return units
        count = 0
        for index, ch in enumerate(string):
            if count >= units:
                return index
            count += 2 if ch >= "\U00010000" else 1
        return len(string)

    def _node_at(self, offset: int, *, end: bool) -> tuple[int, int]:
        """(text node, offset in it) of a plain-text offset; at a node's edge, the node before
        for an end, the node after for a start."""
        index = bisect_right(self._starts, offset) - 1
        index = min(index, len(self._strings) - 1)
        if end and index > 0 and offset == self._starts[index]:
            index -= 1
        return index, offset - self._starts[index]

    def place(self, start: int, end: int) -> StoredAnchor:
        """An anchor over `content[start:end]` (code points of the plain text)."""
        if not self._strings or not 0 <= start < end <= len(self.content):
            raise AnchorError(f"the anchor must satisfy 0 <= from < to <= {len(self.content)}")
        first, first_at = self._node_at(start, end=False)
        last, last_at = self._node_at(end, end=True)
        begin = StickyIndex.new(self._texts[first], self._units(first, first_at), Assoc.AFTER)
        finish = StickyIndex.new(self._texts[last], self._units(last, last_at), Assoc.BEFORE)
        return StoredAnchor(begin.encode(), finish.encode(), self.content[start:end], start, end)

    def _resolve_one(self, data: bytes, txn: Transaction) -> int | None:
        kind, named, assoc = _position(data)
        if kind == 1:
            raise AnchorError("the relative position is not inside a text of the document")
        assert isinstance(named, tuple)
        if kind == 2:
            node = self._ids.get(named)
            if node is None:
                return None
            index = 0 if assoc == ASSOC_BEFORE else len(self._strings[node])
            return self._starts[node] + index
        parent = self._parents.of(named)
        node = self._ids.get(parent) if isinstance(parent, tuple) else None
        if node is None:
            return None
        units = StickyIndex.decode(data, self._texts[node]).get_index(txn)
        return self._starts[node] + self._code_points(node, units)

    def adopt(self, start: bytes, end: bytes) -> StoredAnchor:
        """An anchor a Yjs client made on the fragment's text nodes, checked against them."""
        with self.transaction() as txn:
            first = self._resolve_one(start, txn)
            last = self._resolve_one(end, txn)
        if first is None or last is None:
            raise AnchorError("the relative position names text this document does not have")
        if not first < last:
            raise AnchorError("the anchor's start must come before its end")
        return StoredAnchor(start, end, self.content[first:last], first, last)

    def resolve(self, start: bytes, end: bytes, txn: Transaction) -> tuple[int, int] | None:
        """Where the anchor stands now (plain-text code points); None once its text is gone."""
        try:
            first = self._resolve_one(start, txn)
            last = self._resolve_one(end, txn)
        except AnchorError:
            return None
        if first is None or last is None or first >= last:
            return None
        return first, last
