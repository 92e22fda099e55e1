"""How a socket gets in, the same for `/ws` and `/ws/yjs`: accepted with the route's message
limit already on, its Origin checked against the allowlist, its token found (query string,
`Sec-WebSocket-Protocol`, or a first `{"type":"auth"}` frame), then looked up (`read_access`)
under a bound on admissions in flight, inside an `AccessWatch` ticket (see realtime.access).
Each route adds only what it records about the connection."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
import weakref
from dataclasses import dataclass
from urllib.parse import parse_qsl

import orjson
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.websockets import WebSocket

from cowrite.auth.deps import Principal, principal_from_token
from cowrite.config import Settings
from cowrite.db import unit_of_work
from cowrite.documents.access import DocumentGrant, document_grant
from cowrite.kit.errors import AppError, NotFound, Unauthorized
from cowrite.realtime.codes import CloseCode
from cowrite.realtime.direct import DirectWebSocket
from cowrite.state import AppState
from cowrite.workspaces.roles import Role

# Offered as a pair by clients that keep the token out of URLs: `cowrite` (answered back) and
# `cowrite.bearer.<access token>` (never answered, never logged).
SUBPROTOCOL = "cowrite"
BEARER_PREFIX = "cowrite.bearer."
MAX_AUTH_FRAME = 8192

# Sockets admitted (token checked, session written) at once per process. A burst of thousands of
# handshakes would only queue for the database pool anyway, and running them all at once leaves
# the process's memory at the burst's high-water mark (kept as allocator fragmentation).
ADMISSIONS_AT_ONCE = 8
_gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


def admission_gate() -> asyncio.Semaphore:
    """The running loop's bound on socket admissions in flight (made on first use)."""
    loop = asyncio.get_running_loop()
    gate = _gates.get(loop)
    if gate is None:
        gate = _gates[loop] = asyncio.Semaphore(ADMISSIONS_AT_ONCE)
    return gate


def query_value(websocket: WebSocket, name: str) -> str | None:
    """One query parameter (the last if repeated, as Starlette's `query_params` gives), read
    from the scope: `websocket.query_params` would stay cached on the socket for its life."""
    raw = websocket.scope.get("query_string", b"").decode("latin-1")
    found = None
    for key, value in parse_qsl(raw, keep_blank_values=True):
        if key == name:
            found = value
    return found


def header_value(websocket: WebSocket, name: str) -> str | None:
    """One request header (the first, as Starlette's `headers.get` gives), read from the scope
    without caching a `Headers` object on the socket."""
    wanted = name.lower().encode("latin-1")
    for key, value in websocket.scope.get("headers", ()):
        if key.lower() == wanted:
            return str(value.decode("latin-1"))
    return None


def origin_allowed(websocket: WebSocket, allowed: list[str]) -> bool:
    """Browsers send Origin; other clients don't. Checked only when origins are configured."""
    origin = header_value(websocket, "origin")
    if origin is None or not allowed or "*" in allowed:
        return True
    return origin.rstrip("/") in {item.rstrip("/") for item in allowed}


def forget_handshake(websocket: WebSocket) -> None:
    """Drop the request headers and query string (the token) from an admitted socket's scope:
    nothing reads them after admission, and they are most of an idle socket's scope."""
    websocket.scope["headers"] = []
    websocket.scope["query_string"] = b""
    websocket.scope["subprotocols"] = []


def _bearer(offered: list[str]) -> str | None:
    for item in offered:
        if item.startswith(BEARER_PREFIX):
            return item[len(BEARER_PREFIX) :]
    return None


def auth_frame_token(text: str | None) -> str | None:
    """The token of a `{"type":"auth","token":…}` text frame; None for anything else."""
    if text is None or len(text) > MAX_AUTH_FRAME:
        return None
    try:
        parsed = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(parsed, dict) or parsed.get("type") != "auth":
        return None
    token = parsed.get("token")
    return token if isinstance(token, str) and token else None


async def open_channel(
    websocket: WebSocket, settings: Settings, *, max_message_bytes: int
) -> str | CloseCode:
    """Accept the socket and find its token: the token, or the code that refuses it."""
    offered = list(websocket.scope.get("subprotocols") or ())
    await websocket.accept(subprotocol=SUBPROTOCOL if SUBPROTOCOL in offered else None)
    if isinstance(websocket, DirectWebSocket):
        websocket.limit_message_bytes(max_message_bytes)
    if not origin_allowed(websocket, settings.allowed_origins):
        return CloseCode.FORBIDDEN
    token = query_value(websocket, "token") or _bearer(offered)
    if token:
        return token
    try:
        message = await asyncio.wait_for(websocket.receive(), settings.ws_auth_timeout_seconds)
    except TimeoutError:
        return CloseCode.TIMEOUT
    if message["type"] != "websocket.receive":
        return CloseCode.UNAUTHENTICATED
    return auth_frame_token(message.get("text")) or CloseCode.UNAUTHENTICATED


async def refuse(websocket: WebSocket, code: CloseCode, reason: str = "") -> None:
    """Close during admission; a client that already left is no error."""
    with contextlib.suppress(Exception):
        await websocket.close(int(code), reason or code.name.lower().replace("_", " "))


async def open_share_channel(
    websocket: WebSocket, settings: Settings, *, max_message_bytes: int
) -> str | CloseCode | None:
    """Accept a share link's read-only socket (`?share=<link token>`): no account token is
    needed; a password-protected link's unlock token comes as `token` or the bearer
    subprotocol. The unlock token (None without one), or the code that refuses the socket."""
    offered = list(websocket.scope.get("subprotocols") or ())
    await websocket.accept(subprotocol=SUBPROTOCOL if SUBPROTOCOL in offered else None)
    if isinstance(websocket, DirectWebSocket):
        websocket.limit_message_bytes(max_message_bytes)
    if not origin_allowed(websocket, settings.allowed_origins):
        return CloseCode.FORBIDDEN
    return query_value(websocket, "token") or _bearer(offered)


@dataclass(frozen=True, slots=True)
class Access:
    principal: Principal
    grant: DocumentGrant | None  # when a document was asked for

    @property
    def can_write(self) -> bool:
        return self.grant is not None and self.grant.role.at_least(Role.EDITOR)


async def read_access(
    state: AppState, session: AsyncSession, token: str, document_id: uuid.UUID | None = None
) -> Access | CloseCode:
    """Who the token names (and their grant on the document), or the code that refuses them."""
    try:
        principal = await principal_from_token(state, session, token)
        grant = None
        if document_id is not None:
            grant = await document_grant(session, principal.user_id, document_id, Role.VIEWER)
    except Unauthorized:
        return CloseCode.UNAUTHENTICATED
    except NotFound:
        return CloseCode.NOT_FOUND
    except AppError:
        return CloseCode.FORBIDDEN
    return Access(principal, grant)


async def regrant(
    state: AppState, token: str, document_id: uuid.UUID | None = None
) -> Access | CloseCode:
    """`read_access` again, for a socket whose ticket saw a change while it was admitted."""
    async with unit_of_work(state.reader_factory) as session:
        return await read_access(state, session, token, document_id)
