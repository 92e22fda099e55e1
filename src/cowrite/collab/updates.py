"""Read a Yjs v1 update's structure without applying it: is it well formed, which roots does it
touch? The server only accepts changes under the root text `content`, and must know that before
the update reaches the room's document (an applied update cannot be taken back).

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
_TYPE_XML_ELEMENT = 3
_TYPE_XML_HOOK = 5
# What a Y.Text is made of: deleted runs, strings, embeds, formatting marks, embedded types.
_TEXT_CONTENT = frozenset({1, 4, 5, 6, 7})


class ForeignRootError(ProtocolError):
    """The update changes a root type other than the one the server shares."""


def _skip_content(data: bytes, pos: int, ref: int) -> int:
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
    else:
        raise ProtocolError(f"unknown content type {ref}")
    return pos


def check_update(update: bytes, allowed_root: str) -> None:
    """Raise `ProtocolError` unless `update` is a well-formed v1 update whose items hang only
    under the root `allowed_root` (directly, or through items nested in it)."""
    allowed = allowed_root.encode()
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
                        raise ForeignRootError("update changes a root other than the text")
                    if info & _HAS_PARENT_SUB:
                        raise ForeignRootError("update sets an attribute on the root text")
                else:
                    _, pos = read_var_uint(update, pos)
                    _, pos = read_var_uint(update, pos)
                if info & _HAS_PARENT_SUB:
                    _, pos = read_var_bytes(update, pos)
            if ref not in _TEXT_CONTENT:
                raise ForeignRootError("update holds content that a text does not")
            pos = _skip_content(update, pos, ref)
    deleted_clients, pos = read_var_uint(update, pos)
    for _ in range(deleted_clients):
        _, pos = read_var_uint(update, pos)
        ranges, pos = read_var_uint(update, pos)
        for _ in range(ranges):
            _, pos = read_var_uint(update, pos)
            _, pos = read_var_uint(update, pos)
    if pos != len(update):
        raise ProtocolError("trailing bytes after update")
