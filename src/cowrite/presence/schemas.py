"""Response bodies of the presence REST endpoint."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from cowrite.presence.store import PresenceEntry


class Position(BaseModel):
    line: int
    column: int


class SelectionOut(BaseModel):
    start: Position
    end: Position


class CallMediaOut(BaseModel):
    audio: bool
    video: bool
    screen: bool


class PresenceUserOut(BaseModel):
    user_id: uuid.UUID
    full_name: str
    connection_id: uuid.UUID
    session_id: uuid.UUID | None
    device_type: str
    is_editing: bool
    cursor: Position | None
    selection: SelectionOut | None
    last_seen_at: datetime
    channel: Literal["ws", "yjs"]
    # In the document's call, with which media (null: not in the call).
    call: CallMediaOut | None = None

    @classmethod
    def from_entry(cls, entry: PresenceEntry) -> PresenceUserOut:
        return cls.model_validate(
            {
                "user_id": entry.user_id,
                "full_name": entry.full_name,
                "connection_id": entry.connection_id,
                "session_id": entry.session_id,
                "device_type": entry.device_type,
                "is_editing": entry.is_editing,
                "cursor": entry.cursor,
                "selection": entry.selection,
                "last_seen_at": entry.last_seen_at,
                "channel": entry.channel,
                "call": entry.call,
            }
        )


class DocumentPresenceOut(BaseModel):
    document_id: uuid.UUID
    users: list[PresenceUserOut]
