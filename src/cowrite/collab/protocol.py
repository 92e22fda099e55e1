"""The y-websocket wire format (y-protocols sync and awareness) as pure functions over bytes.

A frame holds one or more messages: `varuint type` then the body. Sync messages are
`0, subtype, varbytes` (step 1 carries a state vector, step 2 and update carry an update);
awareness is `1, varbytes` whose payload is `varuint n` then n entries (client, clock, JSON).
Every reader checks bounds, so truncated or overlong input raises `ProtocolError`, never
`IndexError`.
"""

from __future__ import annotations

from dataclasses import dataclass

MESSAGE_SYNC = 0
MESSAGE_AWARENESS = 1
MESSAGE_AUTH = 2
MESSAGE_QUERY_AWARENESS = 3

SYNC_STEP1 = 0
SYNC_STEP2 = 1
SYNC_UPDATE = 2

# lib0 varuints carry at most 53 bits (JavaScript's safe integers): 8 bytes of 7 bits.
MAX_VARUINT_BYTES = 8
EMPTY_UPDATE = b"\x00\x00"
NULL_STATE = b"null"


class ProtocolError(ValueError):
    """The bytes do not follow the y-protocols encoding."""


class LimitExceeded(ProtocolError):
    """Well-formed, but over one of the room's limits; `too_big` for sizes, else a count."""

    def __init__(self, message: str, *, too_big: bool = False) -> None:
        super().__init__(message)
        self.too_big = too_big


def write_var_uint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    out.append(value)
    return bytes(out)


def read_var_uint(data: bytes, pos: int) -> tuple[int, int]:
    """The varuint at `pos` and the position after it."""
    value = 0
    shift = 0
    end = len(data)
    for _ in range(MAX_VARUINT_BYTES):
        if pos >= end:
            raise ProtocolError("truncated varuint")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7
    raise ProtocolError("overlong varuint")


def read_var_bytes(data: bytes, pos: int) -> tuple[bytes, int]:
    length, pos = read_var_uint(data, pos)
    end = pos + length
    if end > len(data):
        raise ProtocolError("truncated byte string")
    return data[pos:end], end


def write_var_bytes(payload: bytes) -> bytes:
    return write_var_uint(len(payload)) + payload


@dataclass(frozen=True, slots=True)
class SyncStep1:
    state_vector: bytes


@dataclass(frozen=True, slots=True)
class SyncStep2:
    update: bytes


@dataclass(frozen=True, slots=True)
class SyncUpdate:
    update: bytes


@dataclass(frozen=True, slots=True)
class AwarenessMessage:
    payload: bytes


@dataclass(frozen=True, slots=True)
class QueryAwareness:
    pass


@dataclass(frozen=True, slots=True)
class AuthMessage:
    body: bytes


Message = SyncStep1 | SyncStep2 | SyncUpdate | AwarenessMessage | QueryAwareness | AuthMessage


def parse_frame(data: bytes) -> list[Message]:
    """Every message in one binary frame; raises `ProtocolError` if any byte is out of place."""
    if not data:
        raise ProtocolError("empty frame")
    messages: list[Message] = []
    pos = 0
    end = len(data)
    while pos < end:
        kind, pos = read_var_uint(data, pos)
        if kind == MESSAGE_SYNC:
            subtype, pos = read_var_uint(data, pos)
            body, pos = read_var_bytes(data, pos)
            if subtype == SYNC_STEP1:
                messages.append(SyncStep1(body))
            elif subtype == SYNC_STEP2:
                messages.append(SyncStep2(body))
            elif subtype == SYNC_UPDATE:
                messages.append(SyncUpdate(body))
            else:
                raise ProtocolError(f"unknown sync message {subtype}")
        elif kind == MESSAGE_AWARENESS:
            body, pos = read_var_bytes(data, pos)
            messages.append(AwarenessMessage(body))
        elif kind == MESSAGE_QUERY_AWARENESS:
            messages.append(QueryAwareness())
        elif kind == MESSAGE_AUTH:
            messages.append(AuthMessage(data[pos:]))
            pos = end
        else:
            raise ProtocolError(f"unknown message type {kind}")
    return messages


def sync_step1(state_vector: bytes) -> bytes:
    return bytes((MESSAGE_SYNC, SYNC_STEP1)) + write_var_bytes(state_vector)


def sync_step2(update: bytes) -> bytes:
    return bytes((MESSAGE_SYNC, SYNC_STEP2)) + write_var_bytes(update)


def sync_update(update: bytes) -> bytes:
    return bytes((MESSAGE_SYNC, SYNC_UPDATE)) + write_var_bytes(update)


def awareness_message(payload: bytes) -> bytes:
    return bytes((MESSAGE_AWARENESS,)) + write_var_bytes(payload)


@dataclass(frozen=True, slots=True)
class AwarenessEntry:
    """One client's awareness: `state` is its JSON text, `b"null"` when the client left."""

    client_id: int
    clock: int
    state: bytes

    @property
    def removed(self) -> bool:
        return self.state == NULL_STATE


def decode_awareness(payload: bytes, max_entries: int | None = None) -> list[AwarenessEntry]:
    """The entries of an awareness payload; `LimitExceeded` past `max_entries` (checked before
    any entry is read)."""
    count, pos = read_var_uint(payload, 0)
    if max_entries is not None and count > max_entries:
        raise LimitExceeded(f"more than {max_entries} awareness entries in one message")
    entries: list[AwarenessEntry] = []
    for _ in range(count):
        client_id, pos = read_var_uint(payload, pos)
        clock, pos = read_var_uint(payload, pos)
        state, pos = read_var_bytes(payload, pos)
        entries.append(AwarenessEntry(client_id, clock, state))
    if pos != len(payload):
        raise ProtocolError("trailing bytes after awareness entries")
    return entries


def encode_awareness(entries: list[AwarenessEntry]) -> bytes:
    parts = [write_var_uint(len(entries))]
    for entry in entries:
        parts.append(write_var_uint(entry.client_id))
        parts.append(write_var_uint(entry.clock))
        parts.append(write_var_bytes(entry.state))
    return b"".join(parts)
