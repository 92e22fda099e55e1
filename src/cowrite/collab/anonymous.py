"""What an anonymous reader (a share link's live view) may say in awareness: its cursor, under
a name and id the server gives it, so it can never pass for a member."""

from __future__ import annotations

import orjson

from cowrite.collab import protocol
from cowrite.collab.protocol import AwarenessEntry, AwarenessMessage, Message, ProtocolError

ANONYMOUS_NAME = "Anonymous reader"
ANONYMOUS_COLOR = "#8a8f98"
KEPT_FIELDS = ("cursor",)


def _anonymous_state(state: bytes, reader_id: str) -> bytes:
    try:
        parsed = orjson.loads(state)
    except orjson.JSONDecodeError as exc:
        raise ProtocolError("awareness state is not JSON") from exc
    kept = {key: parsed[key] for key in KEPT_FIELDS if isinstance(parsed, dict) and key in parsed}
    kept["user"] = {
        "id": reader_id,
        "name": ANONYMOUS_NAME,
        "color": ANONYMOUS_COLOR,
        "anonymous": True,
    }
    return orjson.dumps(kept)


def anonymize(messages: list[Message], reader_id: str, max_entries: int) -> list[Message]:
    """The frame's messages with every awareness state rewritten as the anonymous reader's."""
    out: list[Message] = []
    for message in messages:
        if isinstance(message, AwarenessMessage):
            entries = [
                entry
                if entry.removed
                else AwarenessEntry(
                    entry.client_id, entry.clock, _anonymous_state(entry.state, reader_id)
                )
                for entry in protocol.decode_awareness(message.payload, max_entries)
            ]
            message = AwarenessMessage(protocol.encode_awareness(entries))
        out.append(message)
    return out
