"""A stand-in of a document where every string is ASCII of the same UTF-16 length.

Yjs counts item clocks in UTF-16 code units; pycrdt's documents count text indexes in UTF-8
bytes and mix the two when they make or read a relative position inside a non-ASCII item. In
the stand-in both units agree, so its relative positions are exactly the ones Yjs makes and
reads (`encodeRelativePosition`) for the real document: same clients, same clocks.
"""

from __future__ import annotations

from cowrite.collab.protocol import read_var_bytes, read_var_uint, write_var_bytes
from cowrite.collab.updates import skip_content

_BITS5 = 0x1F
_HAS_ORIGIN = 0x80
_HAS_RIGHT_ORIGIN = 0x40
_HAS_PARENT_SUB = 0x20
_STRUCT_GC = 0
_STRUCT_SKIP = 10
_CONTENT_STRING = 4


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def ascii_shadow(update: bytes) -> bytes:
    """The same v1 update with each string's text replaced by as many "x" as it has UTF-16
    units (the update was accepted by the room, so it is well formed)."""
    out: list[bytes] = []
    pos = mark = 0
    clients, pos = read_var_uint(update, pos)
    for _ in range(clients):
        structs, pos = read_var_uint(update, pos)
        _, pos = read_var_uint(update, pos)
        _, pos = read_var_uint(update, pos)
        for _ in range(structs):
            info = update[pos]
            pos += 1
            ref = info & _BITS5
            if ref in (_STRUCT_GC, _STRUCT_SKIP):
                _, pos = read_var_uint(update, pos)
                continue
            for flag in (_HAS_ORIGIN, _HAS_RIGHT_ORIGIN):
                if info & flag:
                    _, pos = read_var_uint(update, pos)
                    _, pos = read_var_uint(update, pos)
            if not info & (_HAS_ORIGIN | _HAS_RIGHT_ORIGIN):
                named, pos = read_var_uint(update, pos)
                if named == 1:
                    _, pos = read_var_bytes(update, pos)
                else:
                    _, pos = read_var_uint(update, pos)
                    _, pos = read_var_uint(update, pos)
                if info & _HAS_PARENT_SUB:
                    _, pos = read_var_bytes(update, pos)
            if ref != _CONTENT_STRING:
                pos = skip_content(update, pos, ref)
                continue
            raw, end = read_var_bytes(update, pos)
            text = raw.decode("utf-8", "surrogatepass")
            if not text.isascii():
                out.append(update[mark:pos])
                out.append(write_var_bytes(b"x" * utf16_length(text)))
                mark = end
            pos = end
    out.append(update[mark:])
    return b"".join(out)
