"""The call messages of `/ws` as pure functions: validate what a client sent, build events."""

from __future__ import annotations

import uuid
from typing import Any

import orjson

from cowrite.presence.protocol import ClientMessage, ProtocolError

Media = dict[str, bool]  # {"audio", "video", "screen"}
MEDIA_KEYS = ("audio", "video", "screen")
SIGNAL_TYPES = frozenset({"offer", "answer", "candidate"})


def parse_media(message: ClientMessage, *, required: bool) -> Media:
    """`media` of `call_join` / `call_media`: an object of booleans (missing flags are off)."""
    body = message.body or {}
    raw = body.get("media")
    if raw is None and not required:
        return {key: False for key in MEDIA_KEYS}
    if not isinstance(raw, dict):
        raise ProtocolError(
            "invalid_message", "media must be an object {audio, video, screen}", message.ref
        )
    unknown = set(raw) - set(MEDIA_KEYS)
    if unknown:
        raise ProtocolError(
            "invalid_message", f"media has unknown flags: {sorted(unknown)[:3]}", message.ref
        )
    media: Media = {}
    for key in MEDIA_KEYS:
        value = raw.get(key, False)
        if not isinstance(value, bool):
            raise ProtocolError("invalid_message", f"media.{key} must be a boolean", message.ref)
        media[key] = value
    return media


def parse_replaces(message: ClientMessage) -> uuid.UUID | None:
    """`replaces` of `call_join`: the connection this page was in the call by before its socket
    dropped (a reconnect rejoining), or None."""
    raw = (message.body or {}).get("replaces")
    if raw is None:
        return None
    if not isinstance(raw, str) or len(raw) > 64:
        raise ProtocolError("invalid_message", "replaces must be a connection id", message.ref)
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise ProtocolError(
            "invalid_message", "replaces must be a connection id", message.ref
        ) from None


def parse_signal(message: ClientMessage, max_bytes: int) -> tuple[uuid.UUID, dict[str, Any]]:
    """`rtc_signal`: the addressed connection and the signal, checked for shape and size."""
    body = message.body or {}
    ref = message.ref
    raw_to = body.get("to")
    if not isinstance(raw_to, str) or len(raw_to) > 64:
        raise ProtocolError("invalid_message", "to must be a connection id", ref)
    try:
        to = uuid.UUID(raw_to)
    except ValueError:
        raise ProtocolError("invalid_message", "to must be a connection id", ref) from None
    signal = body.get("signal")
    if not isinstance(signal, dict):
        raise ProtocolError("invalid_message", "signal must be an object", ref)
    kind = signal.get("type")
    if kind not in SIGNAL_TYPES:
        raise ProtocolError(
            "invalid_message", "signal.type must be offer, answer or candidate", ref
        )
    if kind == "candidate":
        if "candidate" not in signal:
            raise ProtocolError("invalid_message", "signal.candidate is required", ref)
        candidate = signal["candidate"]
        if candidate is not None and not isinstance(candidate, dict | str):
            raise ProtocolError(
                "invalid_message", "signal.candidate must be an object, a string or null", ref
            )
    else:
        sdp = signal.get("sdp")
        if not isinstance(sdp, str) or not sdp:
            raise ProtocolError("invalid_message", "signal.sdp must be a non-empty string", ref)
    if len(orjson.dumps(signal)) > max_bytes:
        raise ProtocolError("too_big", f"A signal may be at most {max_bytes} bytes", ref)
    return to, signal
