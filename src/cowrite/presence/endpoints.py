"""Presence routes: `GET /api/v1/presence/document/{document_id}` and the `/ws` socket."""

from __future__ import annotations

from collections.abc import Coroutine
from contextlib import AsyncExitStack
from typing import Any

from fastapi import APIRouter, WebSocket

from cowrite.deps import State, get_state
from cowrite.documents.deps import DocumentViewer
from cowrite.presence.schemas import DocumentPresenceOut, PresenceUserOut
from cowrite.presence.service import PresenceService
from cowrite.presence.socket import serve_socket
from cowrite.presence.store_redis import presence_store
from cowrite.state import AppState

router = APIRouter()


@router.get(
    "/api/v1/presence/document/{document_id}",
    response_model=DocumentPresenceOut,
    tags=["presence"],
    summary="Who is in a document now, with cursors and selections",
)
async def document_presence(access: DocumentViewer, state: State) -> DocumentPresenceOut:
    service = state.presence
    assert isinstance(service, PresenceService)
    entries = await service.document_presence(access.document.id)
    return DocumentPresenceOut(
        document_id=access.document.id,
        users=[PresenceUserOut.from_entry(entry) for entry in entries],
    )


def presence_socket(websocket: WebSocket) -> Coroutine[Any, Any, None]:
    # Hands back the handler's coroutine rather than awaiting it: one frame less per socket.
    return serve_socket(websocket, get_state(websocket))


# A plain Starlette route: no dependency solving, no per-socket exit stacks (memory per idle
# connection counts here); authentication happens inside, on the socket's own terms.
router.add_websocket_route("/ws", presence_socket)


async def startup(state: AppState, stack: AsyncExitStack) -> None:
    service = PresenceService(state, await presence_store(state, stack))
    state.presence = service
    await service.start(stack)
