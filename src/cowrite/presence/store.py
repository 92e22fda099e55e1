"""Who is in which document and where: the presence store (memory here, Redis for scale-out).

Presence is hot state: it changes on every cursor move and is never written to the database.
The store keeps the latest state per connection; fan-out of the changes is the room's job.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from typing import Any, Protocol

from cowrite.kit.clock import utcnow

Cursor = dict[str, int]  # {"line": int, "column": int}
Selection = dict[str, Cursor]  # {"start": Cursor, "end": Cursor}
EntryKey = tuple[uuid.UUID, uuid.UUID]  # (document_id, connection_id)

# The fields a store accepts in `update` (identity fields never change after `add`).
MUTABLE_FIELDS = frozenset(
    {"is_editing", "cursor", "selection", "last_seen_at", "full_name", "call"}
)


@dataclass(slots=True)
class PresenceEntry:
    """One connection present in one document, over `/ws` or the Yjs socket."""

    connection_id: uuid.UUID
    user_id: uuid.UUID
    full_name: str
    session_id: uuid.UUID | None  # the login id
    device_type: str
    document_id: uuid.UUID
    channel: str = "ws"  # "ws" | "yjs"
    is_editing: bool = False
    cursor: Cursor | None = None
    selection: Selection | None = None
    last_seen_at: datetime = field(default_factory=utcnow)
    # The process that holds the connection, so the entries of a dead process can be dropped.
    process_id: str = ""
    # In the document's call: its media flags ({audio, video, screen}); None when not in it.
    call: dict[str, bool] | None = None

    def to_public(self) -> dict[str, Any]:
        """The contract's presence user object."""
        return {
            "user_id": str(self.user_id),
            "full_name": self.full_name,
            "connection_id": str(self.connection_id),
            "session_id": None if self.session_id is None else str(self.session_id),
            "device_type": self.device_type,
            "is_editing": self.is_editing,
            "cursor": self.cursor,
            "selection": self.selection,
            "last_seen_at": self.last_seen_at.isoformat(),
            "channel": self.channel,
            "call": self.call,
        }

    def to_record(self) -> dict[str, Any]:
        """A plain dict for stores that serialize (the Redis store), the inverse of from_record."""
        record = {f.name: getattr(self, f.name) for f in fields(self)}
        for key in ("connection_id", "user_id", "document_id", "session_id"):
            record[key] = None if record[key] is None else str(record[key])
        record["last_seen_at"] = self.last_seen_at.isoformat()
        return record

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> PresenceEntry:
        values = dict(record)
        for key in ("connection_id", "user_id", "document_id"):
            values[key] = uuid.UUID(str(values[key]))
        if values.get("session_id") is not None:
            values["session_id"] = uuid.UUID(str(values["session_id"]))
        values["last_seen_at"] = datetime.fromisoformat(str(values["last_seen_at"]))
        return cls(**values)


class PresenceStore(Protocol):
    """Presence state of every document; all methods are cheap and never touch the database."""

    async def add(self, entry: PresenceEntry) -> None:
        """Add or replace the entry of (entry.document_id, entry.connection_id)."""
        ...

    async def update(
        self, document_id: uuid.UUID, connection_id: uuid.UUID, changes: Mapping[str, Any]
    ) -> None:
        """Apply changes (keys from MUTABLE_FIELDS) to an entry; unknown entries are ignored."""
        ...

    async def update_many(self, changes: Mapping[EntryKey, Mapping[str, Any]]) -> None:
        """`update` for many entries at once (one tick's cursors and selections)."""
        ...

    async def remove(
        self, document_id: uuid.UUID, connection_id: uuid.UUID
    ) -> PresenceEntry | None:
        """Drop an entry; returns it, or None when it was not there."""
        ...

    async def join_call(
        self, document_id: uuid.UUID, connection_id: uuid.UUID, media: dict[str, bool], limit: int
    ) -> bool:
        """Put an entry in its document's call (its `call` flags) when fewer than `limit` others
        are in it, in one step for every process sharing the store; an entry already in the
        call only changes its flags. False when the call is full (or the entry is gone)."""
        ...

    async def list_document(self, document_id: uuid.UUID) -> list[PresenceEntry]:
        """The entries of one document, oldest first."""
        ...

    async def remove_process(self, process_id: str) -> list[PresenceEntry]:
        """Drop every entry a process held (it shut down or died); returns them."""
        ...


class MemoryPresenceStore:
    """The embedded store: dicts in this process."""

    def __init__(self) -> None:
        self._documents: dict[uuid.UUID, dict[uuid.UUID, PresenceEntry]] = {}

    async def add(self, entry: PresenceEntry) -> None:
        self._documents.setdefault(entry.document_id, {})[entry.connection_id] = entry

    async def update(
        self, document_id: uuid.UUID, connection_id: uuid.UUID, changes: Mapping[str, Any]
    ) -> None:
        entry = self._documents.get(document_id, {}).get(connection_id)
        if entry is None:
            return
        for key, value in changes.items():
            if key in MUTABLE_FIELDS:
                setattr(entry, key, value)

    async def update_many(self, changes: Mapping[EntryKey, Mapping[str, Any]]) -> None:
        documents = self._documents
        for (document_id, connection_id), values in changes.items():
            entry = documents.get(document_id, {}).get(connection_id)
            if entry is not None:
                for key, value in values.items():
                    if key in MUTABLE_FIELDS:
                        setattr(entry, key, value)

    async def remove(
        self, document_id: uuid.UUID, connection_id: uuid.UUID
    ) -> PresenceEntry | None:
        room = self._documents.get(document_id)
        if room is None:
            return None
        entry = room.pop(connection_id, None)
        if not room:
            del self._documents[document_id]
        return entry

    async def join_call(
        self, document_id: uuid.UUID, connection_id: uuid.UUID, media: dict[str, bool], limit: int
    ) -> bool:
        room = self._documents.get(document_id, {})
        entry = room.get(connection_id)
        if entry is None:
            return False
        if entry.call is None:
            others = sum(1 for e in room.values() if e.call is not None)
            if others >= limit:
                return False
        entry.call = media
        return True

    async def list_document(self, document_id: uuid.UUID) -> list[PresenceEntry]:
        # Copies: callers read a snapshot, not live state that a later move mutates.
        return [replace(entry) for entry in self._documents.get(document_id, {}).values()]

    async def remove_process(self, process_id: str) -> list[PresenceEntry]:
        removed: list[PresenceEntry] = []
        for document_id in list(self._documents):
            room = self._documents[document_id]
            for connection_id in [c for c, e in room.items() if e.process_id == process_id]:
                removed.append(room.pop(connection_id))
            if not room:
                del self._documents[document_id]
        return removed
