"""In-memory stand-ins for a room's peers and listener."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from pycrdt import Doc, Text

from cowrite.collab import protocol
from cowrite.collab.protocol import SyncStep2, SyncUpdate
from cowrite.collab.room import Room
from cowrite.realtime.outbox import Frame


@dataclass(eq=False)
class FakePeer:
    connection_id: uuid.UUID = field(default_factory=uuid.uuid4)
    user_id: uuid.UUID | None = field(default_factory=uuid.uuid4)
    login_id: uuid.UUID | None = field(default_factory=uuid.uuid4)
    can_write: bool = True
    awareness_ids: set[int] = field(default_factory=set)
    frames: list[bytes] = field(default_factory=list)
    closed_with: int | None = None

    def send(self, frame: bytes) -> None:
        self.frames.append(frame)

    def send_frame(self, frame: Frame, update: bytes | None = None) -> None:
        assert isinstance(frame.payload, bytes)
        self.frames.append(frame.payload)

    def request_close(self, code: int, reason: str) -> None:
        self.closed_with = code

    def text(self) -> str:
        """The text this peer would hold after applying every update it was sent."""
        doc: Doc = Doc()
        for frame in self.frames:
            for message in protocol.parse_frame(frame):
                if isinstance(message, SyncUpdate | SyncStep2):
                    doc.apply_update(message.update)
        return str(doc.get("content", type=Text))


@dataclass
class FakeListener:
    accepted: list[tuple[bytes, uuid.UUID | None]] = field(default_factory=list)
    published: list[bytes] = field(default_factory=list)
    shared: bool = True  # other processes listen

    def update_accepted(self, room: Room, update: bytes, author_id: uuid.UUID | None) -> None:
        self.accepted.append((update, author_id))

    def frame_ready(self, room: Room, frame: bytes) -> None:
        self.published.append(frame)

    def shares_updates(self) -> bool:
        return self.shared


def edit(base: bytes | None, index: int, value: str) -> tuple[Doc, bytes]:
    """A client doc (optionally synced from `base`) after inserting `value`; and its update."""
    doc: Doc = Doc()
    if base:
        doc.apply_update(base)
    before = doc.get_state()
    doc.get("content", type=Text).insert(index, value)
    return doc, doc.get_update(before)
