"""The document create, answered past the framework's routing and dependency solving.

`POST /api/v1/workspaces/{id}/documents` with a JSON body, from a bearer access token whose
login this process knows to be live (`cowrite.auth.front`): the body is validated by the route's
own model, the role checked by the one rule (`require_role`, in the request's transaction as the
route does it; the same statement tells whether the workspace has a webhook to queue the event
for), and the document written and answered by the route's own code
(`endpoints.created`) in the same unit of work a write request gets (`request_session`).

It sits inside the middleware stack, in front of the router: its errors (404, 403, the 413 of a
document too large, a busy database) are answered by the app's own handlers, and the request log
and metrics see it as the route (`scope["route"]`).

Whatever it cannot take on goes to the router with the body as it came, untouched: an API token,
a login not known live, another content type or a query string, a body past `MAX_BODY_BYTES`, a
body that does not parse or validate (the route words its 422s).
"""

from __future__ import annotations

import json
import re
import uuid
from collections import deque
from typing import Any

from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cowrite.auth.front import bearer_token, live_access_user
from cowrite.deps import request_session
from cowrite.documents import endpoints
from cowrite.documents.schemas import DocumentCreate
from cowrite.state import AppState
from cowrite.webhooks.events import note_no_webhooks
from cowrite.workspaces.access import require_role, role_and_webhooks
from cowrite.workspaces.roles import Role

TEMPLATE = "/api/v1/workspaces/{workspace_id}/documents"
_PATH = re.compile(
    r"/api/v1/workspaces/"
    r"([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})"
    r"/documents"
)
_JSON = (b"application/json", b"application/json; charset=utf-8")
# Bodies up to this size are read here; a longer one goes on to the route as it came.
MAX_BODY_BYTES = 256 * 1024


def _route() -> BaseRoute:
    """The full route, as the request log and metrics name it."""
    for route in endpoints.router.routes:
        if getattr(route, "endpoint", None) is endpoints.create_document:
            return route
    raise LookupError("the document create route is missing")


def _json_body(scope: Scope) -> bool:
    """Whether the one Content-Type header names plain JSON."""
    found = [value for name, value in scope["headers"] if name == b"content-type"]
    return len(found) == 1 and found[0].lower() in _JSON


async def _read_body(receive: Receive) -> tuple[list[Message], bytes | None]:
    """The messages read and the whole body, or None for the body when it ended otherwise
    (too long, a disconnect): the messages then go on to the route."""
    messages: list[Message] = []
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return messages, None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return messages, b"".join(chunks)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """`receive` with the messages already read handed out first."""
    pending = deque(messages)

    async def again() -> Message:
        if pending:
            return pending.popleft()
        return await receive()

    return again


class DocumentCreates:
    """The state of one running app (started by its lifespan) and the path's counter."""

    def __init__(self) -> None:
        self.state: AppState | None = None
        self.route = _route()
        self.taken: Any = None  # the counter of requests answered here

    def start(self, state: AppState) -> None:
        if state.settings.lean_document_creates:
            self.taken = state.metrics.lean_requests.labels(TEMPLATE)
            self.state = state

    def stop(self) -> None:
        self.state = None


class LeanDocumentCreates:
    """ASGI wrapper of the router: the creates it can take, answered; the rest to `app`."""

    def __init__(self, app: ASGIApp, creates: DocumentCreates) -> None:
        self.app = app
        self.creates = creates

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            self.creates.state is not None
            and scope["type"] == "http"
            and scope["method"] == "POST"
            and not scope["query_string"]
            and not scope.get("root_path")
        ):
            match = _PATH.fullmatch(scope["path"])
            if match is not None:
                await self._lean(scope, receive, send, uuid.UUID(match[1]))
                return
        await self.app(scope, receive, send)

    async def _lean(
        self, scope: Scope, receive: Receive, send: Send, workspace_id: uuid.UUID
    ) -> None:
        state = self.creates.state
        assert state is not None
        token = bearer_token(scope)
        user_id = None if token is None else live_access_user(state, token)
        if user_id is None or not _json_body(scope):
            await self.app(scope, receive, send)
            return
        messages, raw = await _read_body(receive)
        body = None
        if raw is not None:
            try:
                # Parsed as the framework parses it, then validated by the route's model.
                body = DocumentCreate.model_validate(json.loads(raw))
            except Exception:  # the route answers it, in its own words
                body = None
        if body is None:
            await self.app(scope, _replay(messages, receive), send)
            return
        scope["route"] = self.creates.route
        self.creates.taken.inc()
        async with request_session(state, "POST") as session:
            # The role, and whether a webhook waits for the event, in one statement.
            role, webhooks = await role_and_webhooks(session, user_id, workspace_id)
            require_role(role, Role.EDITOR)
            if not webhooks:
                note_no_webhooks(session, workspace_id)
            response = await endpoints.created(state, session, workspace_id, user_id, body)
        await response(scope, receive, send)
