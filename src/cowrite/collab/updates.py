"""Read a Yjs v1 update's structure without applying it: is it well formed, which roots does it
touch? The server only accepts changes under the one root a document's format uses (the text
`content`, or the XML fragment `default` of a rich document), and must know that before the
update reaches the room's document (an applied update cannot be taken back).

The layout follows Yjs' UpdateDecoderV1: per client a run of structs (GC, Skip or Item with
origins, parent and content), then the delete set.
"""

from __future__ import annotations

from cowrite.collab.protocol import ProtocolError, read_var_bytes, read_var_uint

_BITS5 = 0x1F
_HAS_ORIGIN = 0x80
_HAS_RIGHT_ORIGIN = 0x40
_HAS_PARENT_SUB = 0x20

_STRUCT_GC = 0
_STRUCT_SKIP = 10
_CONTENT_TYPE = 7
_CONTENT_ANY = 8
_TYPE_XML_ELEMENT = 3
_TYPE_XML_HOOK = 5
_TYPE_XML_TEXT = 6
# What a Y.Text is made of: deleted runs, strings, embeds, formatting marks, embedded types.
_TEXT_CONTENT = frozenset({1, 4, 5, 6, 7})
# What y-prosemirror's XML tree is made of: the same, and attribute values (`any`).
_XML_CONTENT = frozenset({1, 4, 5, 6, 7, 8})
_XML_TYPES = frozenset({_TYPE_XML_ELEMENT, _TYPE_XML_TEXT})
_MAX_ANY_DEPTH = 32


class ForeignRootError(ProtocolError):
    """The update changes a root type other than the one the server shares."""


def _skip_any(data: bytes, pos: int, depth: int = 0) -> int:
    """Skip one lib0 `any` value (attribute values of XML elements)."""
    if depth > _MAX_ANY_DEPTH:
        raise ProtocolError("value nested too deeply")
    if pos >= len(data):
        raise ProtocolError("truncated value")
    kind = data[pos]
    pos += 1
    if kind in (127, 126, 121, 120):  # undefined, null, false, true
        return pos
    if kind == 125:  # varint: like a varuint, the sign in the first byte
        _, pos = read_var_uint(data, pos)
        return pos
    if kind in (124, 123, 122):  # float32, float64, bigint64
        end = pos + (4 if kind == 124 else 8)
        if end > len(data):
            raise ProtocolError("truncated number")
        return end
    if kind in (119, 116):  # string, bytes
        _, pos = read_var_bytes(data, pos)
        return pos
    if kind == 118:  # object
        count, pos = read_var_uint(data, pos)
        for _ in range(count):
            _, pos = read_var_bytes(data, pos)
            pos = _skip_any(data, pos, depth + 1)
        return pos
    if kind == 117:  # array
        count, pos = read_var_uint(data, pos)
        for _ in range(count):
            pos = _skip_any(data, pos, depth + 1)
        return pos
    raise ProtocolError(f"unknown value type {kind}")


def skip_content(data: bytes, pos: int, ref: int) -> int:
    if ref == 1:  # deleted
        _, pos = read_var_uint(data, pos)
    elif ref in (4, 5):  # string, embed (JSON text)
        _, pos = read_var_bytes(data, pos)
    elif ref == 6:  # format: key, JSON value
        _, pos = read_var_bytes(data, pos)
        _, pos = read_var_bytes(data, pos)
    elif ref == 7:  # type
        type_ref, pos = read_var_uint(data, pos)
        if type_ref in (_TYPE_XML_ELEMENT, _TYPE_XML_HOOK):
            _, pos = read_var_bytes(data, pos)
    elif ref == _CONTENT_ANY:
        count, pos = read_var_uint(data, pos)
        for _ in range(count):
            pos = _skip_any(data, pos)
    else:
        raise ProtocolError(f"unknown content type {ref}")
    return pos


def check_update(update: bytes, allowed_root: str, *, xml: bool = False) -> int:
    """Raise `ProtocolError` unless `update` is a well-formed v1 update whose items hang only
    under the root `allowed_root` (directly, or through items nested in it): a text, or with
    `xml` an XML fragment of elements and texts. Returns how many XML elements it adds."""
    allowed = allowed_root.encode()
    kinds = _XML_CONTENT if xml else _TEXT_CONTENT
    elements = 0
    pos = 0
    clients, pos = read_var_uint(update, pos)
    for _ in range(clients):
        structs, pos = read_var_uint(update, pos)
        _, pos = read_var_uint(update, pos)  # client
        _, pos = read_var_uint(update, pos)  # clock
        for _ in range(structs):
            if pos >= len(update):
                raise ProtocolError("truncated struct")
            info = update[pos]
            pos += 1
            ref = info & _BITS5
            if ref in (_STRUCT_GC, _STRUCT_SKIP):
                _, pos = read_var_uint(update, pos)
                continue
            if info & _HAS_ORIGIN:
                _, pos = read_var_uint(update, pos)
                _, pos = read_var_uint(update, pos)
            if info & _HAS_RIGHT_ORIGIN:
                _, pos = read_var_uint(update, pos)
                _, pos = read_var_uint(update, pos)
            if not info & (_HAS_ORIGIN | _HAS_RIGHT_ORIGIN):
                named, pos = read_var_uint(update, pos)
                if named == 1:
                    name, pos = read_var_bytes(update, pos)
                    if name != allowed:
                        raise ForeignRootError(
                            f"update changes a root other than the {_kind(xml)} "
                            f"'{allowed_root}' this document is made of"
                        )
                    if info & _HAS_PARENT_SUB:
                        raise ForeignRootError(f"update sets an attribute on the root {_kind(xml)}")
                else:
                    _, pos = read_var_uint(update, pos)
                    _, pos = read_var_uint(update, pos)
                if info & _HAS_PARENT_SUB:
                    _, pos = read_var_bytes(update, pos)
            if ref not in kinds:
                raise ForeignRootError(f"update holds content that a {_kind(xml)} does not")
            if xml and ref == _CONTENT_TYPE:
                type_ref, _ = read_var_uint(update, pos)
                if type_ref not in _XML_TYPES:
                    raise ForeignRootError("update nests a type other than XML in the fragment")
                elements += type_ref == _TYPE_XML_ELEMENT
            pos = skip_content(update, pos, ref)
    deleted_clients, pos = read_var_uint(update, pos)
    for _ in range(deleted_clients):
        _, pos = read_var_uint(update, pos)
        ranges, pos = read_var_uint(update, pos)
        for _ in range(ranges):
            _, pos = read_var_uint(update, pos)
            _, pos = read_var_uint(update, pos)
    if pos != len(update):
        raise ProtocolError("trailing bytes after update")
    return elements


def _kind(xml: bool) -> str:
    return "XML fragment" if xml else "text"
