"""The `/ws` JSON protocol as pure functions: parse and validate client frames, build events.

Validation is hand-written: a frame is checked in a few dict lookups, several times faster than
a Pydantic model on the cursor path, and every failure names the field that was wrong.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import orjson

from cowrite.presence.store import Cursor, Selection

MAX_POSITION = 10_000_000  # lines and columns; larger numbers are nobody's document
MAX_ID_LENGTH = 64
MAX_TOKEN_LENGTH = 4096

DOCUMENT_TYPES = frozenset(
    {
        "join_document",
        "leave_document",
        "cursor_move",
        "selection_change",
        "editing_start",
        "editing_stop",
        "typing",
    }
)
# Calls in a document: validated and handled by the calls feature (`PresenceService.calls`).
CALL_TYPES = frozenset({"call_join", "call_leave", "call_media", "rtc_signal"})
CLIENT_TYPES = DOCUMENT_TYPES | CALL_TYPES | {"heartbeat", "hello", "auth"}
# Most of the traffic: handled with no coroutine (`PresenceService.handle_move`).
MOVE_TYPES = frozenset({"cursor_move", "selection_change"})
# Handled the same way: moves, and call signals (relayed to one connection at once).
QUICK_TYPES = MOVE_TYPES | {"rtc_signal"}


class ProtocolError(Exception):
    """A frame the server refuses; answered with an `error` frame, the socket stays open."""

    def __init__(self, code: str, message: str, ref: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.ref = ref


# Not frozen: a frozen dataclass's __init__ costs three times as much, on every cursor move.
@dataclass(slots=True)
class ClientMessage:
    type: str
    ref: str | int | None = None
    document_id: uuid.UUID | None = None
    cursor: Cursor | None = None
    selection: Selection | None = None
    is_typing: bool = True
    batch: bool = False
    token: str | None = None
    # The whole frame, for the types another feature validates (calls).
    body: dict[str, Any] | None = None


def _ref(frame: dict[str, Any]) -> str | int | None:
    ref = frame.get("id")
    if ref is None:
        return None
    if isinstance(ref, bool) or not isinstance(ref, str | int):
        raise ProtocolError("invalid_message", "id must be a string or an integer")
    if isinstance(ref, str) and len(ref) > MAX_ID_LENGTH:
        raise ProtocolError("invalid_message", f"id is longer than {MAX_ID_LENGTH} characters")
    if isinstance(ref, int) and abs(ref) > 2**53:
        raise ProtocolError("invalid_message", "id is out of range")
    return ref


def _position(value: Any, where: str, ref: Any) -> Cursor:
    if not isinstance(value, dict):
        raise ProtocolError("invalid_message", f"{where} must be an object {{line, column}}", ref)
    line = value.get("line")
    column = value.get("column")
    for name, number in (("line", line), ("column", column)):
        if type(number) is not int:
            raise ProtocolError("invalid_message", f"{where}.{name} must be an integer", ref)
        if not 0 <= number <= MAX_POSITION:
            raise ProtocolError(
                "invalid_message", f"{where}.{name} must be between 0 and {MAX_POSITION}", ref
            )
    return {"line": line, "column": column}  # type: ignore[dict-item]  # both checked int above


# Document ids as clients spell them, parsed: every cursor move names its document again.
_KNOWN_IDS: dict[str, uuid.UUID] = {}
_KNOWN_IDS_MAX = 4096


def _document_id(raw: str) -> uuid.UUID | None:
    known = _KNOWN_IDS.get(raw)
    if known is not None:
        return known
    try:
        parsed = uuid.UUID(raw)
    except ValueError:
        return None
    if len(_KNOWN_IDS) >= _KNOWN_IDS_MAX:
        _KNOWN_IDS.clear()
    _KNOWN_IDS[raw] = parsed
    return parsed


def parse_frame(text: str | bytes) -> ClientMessage:
    """One client frame → a validated message, or ProtocolError."""
    try:
        frame = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise ProtocolError("invalid_json", "Frame is not valid JSON") from None
    if not isinstance(frame, dict):
        raise ProtocolError("invalid_message", "Frame must be a JSON object")
    ref = _ref(frame)
    kind = frame.get("type")
    if not isinstance(kind, str):
        raise ProtocolError("invalid_message", "type must be a string", ref)
    if kind not in CLIENT_TYPES:
        raise ProtocolError("unknown_type", f"Unknown message type {kind[:40]!r}", ref)
    if kind == "heartbeat":
        return ClientMessage(kind, ref)
    if kind == "hello":
        batch = frame.get("batch", False)
        if not isinstance(batch, bool):
            raise ProtocolError("invalid_message", "batch must be a boolean", ref)
        return ClientMessage(kind, ref, batch=batch)
    if kind == "auth":
        token = frame.get("token")
        if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN_LENGTH:
            raise ProtocolError("invalid_message", "token must be a non-empty string", ref)
        return ClientMessage(kind, ref, token=token)

    raw_id = frame.get("document_id")
    document_id = _document_id(raw_id) if isinstance(raw_id, str) and len(raw_id) <= 64 else None
    if document_id is None:
        raise ProtocolError("invalid_message", "document_id must be a UUID string", ref)

    if kind == "cursor_move":
        cursor = _position(frame.get("cursor"), "cursor", ref)
        return ClientMessage(kind, ref, document_id, cursor=cursor)
    if kind == "selection_change":
        if "selection" not in frame:
            raise ProtocolError("invalid_message", "selection is required (object or null)", ref)
        raw = frame["selection"]
        selection = None
        if raw is not None:
            if not isinstance(raw, dict):
                raise ProtocolError(
                    "invalid_message", "selection must be {start, end} or null", ref
                )
            selection = {
                "start": _position(raw.get("start"), "selection.start", ref),
                "end": _position(raw.get("end"), "selection.end", ref),
            }
        return ClientMessage(kind, ref, document_id, selection=selection)
    if kind in CALL_TYPES:
        return ClientMessage(kind, ref, document_id, body=frame)
    if kind == "typing":
        is_typing = frame.get("is_typing", True)
        if not isinstance(is_typing, bool):
            raise ProtocolError("invalid_message", "is_typing must be a boolean", ref)
        return ClientMessage(kind, ref, document_id, is_typing=is_typing)
    return ClientMessage(kind, ref, document_id)


def encode(message: dict[str, Any]) -> str:
    """Encode once; the same string is then sent to every recipient."""
    return orjson.dumps(message).decode()


def error_frame(code: str, message: str, ref: Any = None) -> str:
    body: dict[str, Any] = {"type": "error", "code": code, "message": message}
    if ref is not None:
        body["ref"] = ref
    return encode(body)


def reply(message: dict[str, Any], ref: Any) -> str:
    if ref is not None:
        message["ref"] = ref
    return encode(message)


def batch_frame(events: list[str]) -> str:
    """Events already encoded, grouped without decoding them again."""
    return '{"type":"batch","events":[' + ",".join(events) + "]}"
