"""Comment changes to the `/ws` connections joined to the document, in every process.

A change is a domain event queued in the request's outbox, so nobody hears of a comment that
was rolled back; once committed it goes to the presence rooms' fan-out (which crosses processes
through the broker on its own)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Protocol

from cowrite.comments.schemas import CommentOut
from cowrite.state import AppState

# Events from the server, not from a connection: no member is skipped as their sender.
SERVER_SOURCE = uuid.UUID(int=0)
KINDS = frozenset(
    {
        "comment_created",
        "comment_updated",
        "comment_deleted",
        "thread_resolved",
        "thread_reopened",
        "reaction_changed",
    }
)


@dataclass(frozen=True, slots=True)
class CommentChanged:
    kind: str
    document_id: uuid.UUID
    comment: dict[str, Any]


class RoomBroadcaster(Protocol):
    """Presence's fan-out to a document's room, local members and other processes alike."""

    def broadcast(
        self, document_id: uuid.UUID, body: dict[str, Any], source: uuid.UUID
    ) -> None: ...


def changed(kind: str, comment: CommentOut) -> CommentChanged:
    assert kind in KINDS
    return CommentChanged(
        kind=kind,
        document_id=comment.document_id,
        comment=comment.model_dump(mode="json", by_alias=True),
    )


def forward_to_rooms(state: AppState) -> Any:
    """The handler that hands committed comment changes to presence's rooms."""

    def handle(event: CommentChanged) -> None:
        presence = state.presence
        if presence is None:
            return
        rooms: RoomBroadcaster = presence.manager
        body = {"type": event.kind, "document_id": str(event.document_id), "comment": event.comment}
        rooms.broadcast(event.document_id, body, SERVER_SOURCE)

    return handle
