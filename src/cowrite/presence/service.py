"""The presence service (`state.presence`): the manager plus sessions, authorization, domain
events and the background sweeps. Socket handlers and other features talk to this."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from contextlib import AsyncExitStack
from typing import Any, Protocol

from cowrite.db import unit_of_work
from cowrite.documents.access import document_grant, roles_on_document
from cowrite.kit.errors import AppError
from cowrite.maintenance import close_stale_sessions, stale_session_age, touch_process_sessions
from cowrite.presence import sessions
from cowrite.presence.connection import Connection
from cowrite.presence.manager import ConnectionManager
from cowrite.presence.protocol import (
    CALL_TYPES,
    MOVE_TYPES,
    ClientMessage,
    ProtocolError,
    encode,
    reply,
)
from cowrite.presence.shutdown import install_shutdown_hook
from cowrite.presence.store import MemoryPresenceStore, PresenceEntry, PresenceStore
from cowrite.realtime.access import AccessChange, Loss
from cowrite.realtime.codes import CloseCode
from cowrite.state import AppState
from cowrite.workspaces.roles import Role

log = logging.getLogger(__name__)


class CallMessages(Protocol):
    """The calls feature's side of `/ws`: `call_join`, `call_leave`, `call_media`, `rtc_signal`."""

    async def handle(self, connection: Connection, message: ClientMessage) -> None: ...

    def relay(self, connection: Connection, message: ClientMessage) -> None:
        """An `rtc_signal`, relayed with no coroutine (like a cursor move)."""


class PresenceService:
    def __init__(self, state: AppState, store: PresenceStore | None = None) -> None:
        self.state = state
        self.settings = state.settings
        self.store: PresenceStore = store or MemoryPresenceStore()
        self.manager = ConnectionManager(
            self.store,
            state.broker,
            process_id=state.process_id,
            flush_interval=state.settings.presence_flush_interval_ms / 1000,
        )
        self._typing: dict[tuple[uuid.UUID, uuid.UUID], asyncio.TimerHandle] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._writes: set[asyncio.Task[None]] = set()
        # Set at shutdown: sessions are then closed in one statement, not one per socket.
        self._stopping = False
        # Set by the calls feature at start-up.
        self.calls: CallMessages | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    async def start(self, stack: AsyncExitStack) -> None:
        try:
            async with unit_of_work(self.state.session_factory) as session:
                closed = await close_stale_sessions(session, stale_session_age(self.settings))
            if closed:
                log.info("closed %d sessions left by stopped processes", closed)
        except Exception:
            # The app still starts (and /ready reports the database); the periodic clean-up
            # does this later.
            log.exception("could not close stale sessions at start-up")
        self.state.access.listen(self.on_access_changed)
        self._tasks = [
            asyncio.create_task(self._sweep_timeouts(), name="presence-timeouts"),
            asyncio.create_task(self._maintain_sessions(), name="presence-sessions"),
        ]
        stack.push_async_callback(self.stop)
        stack.callback(install_shutdown_hook(asyncio.get_running_loop(), self.close_all))

    async def close_all(self) -> None:
        """Close every socket with 1001 (the server is going away)."""
        self._stopping = True
        await asyncio.gather(
            *(
                c.aclose(CloseCode.GOING_AWAY, "server shutting down")
                for c in list(self.manager.connections.values())
            ),
            return_exceptions=True,
        )

    async def stop(self) -> None:
        """Shutdown: close every socket with 1001 and mark this process's sessions inactive."""
        self._stopping = True
        self.state.access.unlisten(self.on_access_changed)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        connections = list(self.manager.connections.values())
        for connection in connections:
            for document_id in list(connection.rooms):
                await self.manager.leave(connection, document_id)
        await self.manager.drain()
        await asyncio.gather(
            *(c.aclose(CloseCode.GOING_AWAY, "server shutting down") for c in connections),
            return_exceptions=True,
        )
        await self.store.remove_process(self.state.process_id)
        for handle in self._typing.values():
            handle.cancel()
        with contextlib.suppress(Exception):
            async with unit_of_work(self.state.session_factory) as session:
                await close_stale_sessions(session, 0, process_id=self.state.process_id)

    # -- connections -----------------------------------------------------------------------------

    async def connect(self, connection: Connection, user_agent: str, client_address: str) -> None:
        async with unit_of_work(self.state.session_factory) as session:
            await sessions.open_session(
                session,
                connection_id=connection.id,
                user_id=connection.user_id,
                login_id=connection.login_id,
                channel="ws",
                user_agent=user_agent,
                client_address=client_address,
                device_type=connection.device_type,
                process_id=self.state.process_id,
            )
        self.manager.register(connection)
        connection.send(
            encode(
                {
                    "type": "connected",
                    "connection_id": str(connection.id),
                    "session_id": str(connection.login_id),
                    "user_id": str(connection.user_id),
                }
            )
        )

    async def disconnect(self, connection: Connection) -> None:
        for document_id in list(connection.rooms):
            self._stop_typing_timer(connection.id, document_id)
            await self.manager.leave(connection, document_id)
            await self.manager.close_room_if_empty(document_id)
        self.manager.unregister(connection)
        await connection.finish()
        if self._stopping:
            return
        try:
            async with unit_of_work(self.state.session_factory) as session:
                await sessions.close_session(session, connection.id)
        except Exception:
            # The periodic clean-up closes it later; a socket ending never raises.
            log.exception("could not close session %s", connection.id)

    async def close_connection(self, connection: Connection, code: int, reason: str) -> None:
        await connection.aclose(code, reason)

    # -- messages --------------------------------------------------------------------------------

    def handle_move(self, connection: Connection, message: ClientMessage) -> bool:
        """A cursor or selection move, most of the traffic, handled with no coroutine; False
        for any other message (`handle` takes those). Call signals come this way too."""
        kind = message.type
        if kind not in MOVE_TYPES:
            if kind == "rtc_signal" and self.calls is not None:
                self.calls.relay(connection, message)
                return True
            return False
        document_id = message.document_id
        if document_id not in connection.rooms:
            raise ProtocolError("not_joined", "Join the document first", message.ref)
        room = self.manager.rooms.get(document_id)  # looked up once on this path
        text = room.document_text if room is not None else str(document_id)
        body = self._event(connection, text, kind)
        if kind == "cursor_move":
            body["cursor"] = message.cursor
            changes: dict[str, Any] = {"cursor": message.cursor}
        else:
            body["selection"] = message.selection
            changes = {"selection": message.selection}
        self.manager.note_state(document_id, connection.id, changes)
        if room is not None:
            self.manager.queue_in(room, connection.id, kind, body)
        else:  # the room is gone here; other processes may still have members
            self.manager.queue(document_id, connection.id, kind, body)
        return True

    async def handle(self, connection: Connection, message: ClientMessage) -> None:
        kind = message.type
        if kind == "heartbeat":
            connection.send(reply({"type": "heartbeat_ack"}, message.ref))
            return
        if kind == "hello":
            connection.batch = message.batch
            connection.send(reply({"type": "hello_ack", "batch": message.batch}, message.ref))
            return
        if kind == "auth":
            raise ProtocolError("invalid_message", "Already authenticated", message.ref)
        if kind in CALL_TYPES:
            if self.calls is None:
                raise ProtocolError(
                    "unknown_type", f"Calls are not available ({kind})", message.ref
                )
            await self.calls.handle(connection, message)
            return
        document_id = message.document_id
        assert document_id is not None  # every other type carries one (checked by the parser)
        if kind == "join_document":
            await self.join(connection, document_id, message.ref)
            return
        if document_id not in connection.rooms:
            raise ProtocolError("not_joined", "Join the document first", message.ref)
        if kind == "leave_document":
            await self.leave(connection, document_id)
            if message.ref is not None:
                connection.send(
                    reply({"type": "left", "document_id": str(document_id)}, message.ref)
                )
            return
        # Moves never come here: `handle_move` takes every one of them.
        body = self._event(connection, self.manager.document_text(document_id), kind)
        if kind in ("editing_start", "editing_stop"):
            await self.store.update(
                document_id, connection.id, {"is_editing": kind == "editing_start"}
            )
        elif kind == "typing":
            body["is_typing"] = message.is_typing
            self._restart_typing_timer(connection, document_id, message.is_typing)
        self.manager.queue(document_id, connection.id, kind, body)

    async def join(self, connection: Connection, document_id: uuid.UUID, ref: Any) -> None:
        if document_id in connection.rooms:
            connection.send(await self.manager.presence_list(document_id, ref))
            return
        if len(connection.rooms) >= self.settings.ws_max_documents_per_connection:
            raise ProtocolError(
                "too_many_documents",
                f"A connection may be in at most {self.settings.ws_max_documents_per_connection}"
                " documents",
                ref,
            )
        try:
            async with unit_of_work(self.state.session_factory) as session:
                grant = await document_grant(session, connection.user_id, document_id, Role.VIEWER)
                await sessions.set_location(
                    session, connection.id, grant.document.workspace_id, document_id
                )
        except AppError:
            raise ProtocolError("not_found", "Document not found", ref) from None
        if connection.closed:
            return
        entry = PresenceEntry(
            connection_id=connection.id,
            user_id=connection.user_id,
            full_name=connection.full_name,
            session_id=connection.login_id,
            device_type=connection.device_type,
            document_id=document_id,
            channel="ws",
            process_id=self.state.process_id,
        )
        await self.manager.join(connection, entry, grant.document.workspace_id)
        connection.send(await self.manager.presence_list(document_id, ref))

    async def leave(
        self, connection: Connection, document_id: uuid.UUID, reason: str | None = None
    ) -> None:
        self._stop_typing_timer(connection.id, document_id)
        if not await self.manager.leave(connection, document_id, reason):
            return
        await self.manager.close_room_if_empty(document_id)
        if reason is None:
            await self._record_leave(connection.id)
        else:
            # Taken out by a domain event, which may be emitted inside the transaction that
            # caused it (on SQLite that one holds the write lock): record it after, not now.
            task = asyncio.create_task(self._record_leave(connection.id))
            self._writes.add(task)
            task.add_done_callback(self._writes.discard)

    async def _record_leave(self, connection_id: uuid.UUID) -> None:
        try:
            async with unit_of_work(self.state.session_factory) as session:
                await sessions.set_location(session, connection_id, None, None)
        except Exception:
            log.exception("could not record leave of %s", connection_id)

    def _event(self, connection: Connection, document_text: str, kind: str) -> dict[str, Any]:
        return {
            "type": kind,
            "document_id": document_text,
            "user_id": connection.user_id_text,
            "connection_id": connection.id_text,
            "full_name": connection.full_name,
        }

    # -- typing expires by itself ----------------------------------------------------------------

    def _restart_typing_timer(
        self, connection: Connection, document_id: uuid.UUID, is_typing: bool
    ) -> None:
        self._stop_typing_timer(connection.id, document_id)
        if is_typing:
            self._typing[(connection.id, document_id)] = asyncio.get_running_loop().call_later(
                self.settings.presence_typing_seconds, self._typing_expired, connection, document_id
            )

    def _stop_typing_timer(self, connection_id: uuid.UUID, document_id: uuid.UUID) -> None:
        handle = self._typing.pop((connection_id, document_id), None)
        if handle is not None:
            handle.cancel()

    def _typing_expired(self, connection: Connection, document_id: uuid.UUID) -> None:
        self._typing.pop((connection.id, document_id), None)
        if document_id in connection.rooms:
            body = self._event(connection, self.manager.document_text(document_id), "typing")
            body["is_typing"] = False
            self.manager.queue(document_id, connection.id, "typing", body)

    # -- presence of other channels (Yjs sockets) ------------------------------------------------

    async def track_external(self, entry: PresenceEntry) -> None:
        """A Yjs connection entered a document: it shows in presence lists and `/ws` rooms."""
        if not entry.process_id:
            entry.process_id = self.state.process_id
        await self.store.add(entry)
        self.manager.queue(
            entry.document_id,
            entry.connection_id,
            "user_joined",
            {
                "type": "user_joined",
                "document_id": str(entry.document_id),
                "user": entry.to_public(),
            },
        )

    async def untrack_external(self, document_id: uuid.UUID, connection_id: uuid.UUID) -> None:
        entry = await self.store.remove(document_id, connection_id)
        if entry is None:
            return
        self.manager.document_exited(document_id, connection_id)
        self.manager.queue(
            document_id,
            connection_id,
            "user_left",
            {
                "type": "user_left",
                "document_id": str(document_id),
                "user_id": str(entry.user_id),
                "connection_id": str(connection_id),
            },
        )

    async def document_presence(self, document_id: uuid.UUID) -> list[PresenceEntry]:
        return await self.store.list_document(document_id)

    # -- domain events ---------------------------------------------------------------------------

    async def on_access_changed(self, change: AccessChange) -> None:
        """Open pages learn a new role at once (an editor made viewer turns read-only); a
        revoked login's sockets close; whoever lost a document leaves its room."""
        manager = self.manager
        if change.loss is Loss.ROLE_CHANGED:
            assert change.user_id is not None and change.role is not None
            body = {"type": "role_changed", "workspace_id": str(change.workspace_id)}
            frame = encode({**body, "role": change.role.value})
            for connection in manager.user_connections(change.user_id):
                connection.send(frame)
            return
        if change.loss is Loss.SHARE_REVOKED:
            return  # links never come in on /ws
        if change.loss is Loss.LOGINS_REVOKED:
            assert change.user_id is not None
            for connection in manager.user_connections(change.user_id):
                if change.concerns(connection.user_id, connection.login_id):
                    connection.close_soon(CloseCode.UNAUTHENTICATED, "login revoked")
            return
        if change.document_id is not None:
            rooms = [room] if (room := manager.rooms.get(change.document_id)) else []
        else:
            assert change.workspace_id is not None
            rooms = manager.rooms_of_workspace(change.workspace_id)
        for room in rooms:
            concerned = [
                connection
                for connection in list(room.members.values())
                if change.concerns(connection.user_id) and room.document_id in connection.rooms
            ]
            if change.rereads:
                await self._reread_roles(room.document_id, concerned)
                continue
            for connection in concerned:
                await self.leave(connection, room.document_id, reason=change.loss.value)

    async def _reread_roles(self, document_id: uuid.UUID, connections: list[Connection]) -> None:
        """Read each joined person's role on the document again: those who lost it leave the
        document (and whatever follows it, a call included); the others learn their role."""
        if not connections:
            return
        async with unit_of_work(self.state.reader_factory) as session:
            roles = await roles_on_document(
                session, document_id, {connection.user_id for connection in connections}
            )
        body = {"type": "document_role_changed", "document_id": str(document_id)}
        for connection in connections:
            role = roles.get(connection.user_id)
            if role is None:
                await self.leave(connection, document_id, reason="access_revoked")
            else:
                connection.send(encode({**body, "role": role.value}))

    # -- background ------------------------------------------------------------------------------

    async def _sweep_timeouts(self) -> None:
        """Close connections silent for longer than the presence timeout."""
        timeout = self.settings.presence_timeout_seconds
        period = max(0.05, min(1.0, timeout / 4))
        while True:
            await asyncio.sleep(period)
            cutoff = time.monotonic() - timeout
            for connection in list(self.manager.connections.values()):
                if connection.last_activity < cutoff and not connection.closed:
                    connection.close_soon(CloseCode.TIMEOUT, "presence timeout")

    async def _maintain_sessions(self) -> None:
        """Keep this process's sessions fresh (one UPDATE per interval, however many sockets)
        and close the sessions that stopped processes left behind."""
        touch_every = self.settings.session_touch_interval_seconds
        cleanup_every = self.settings.cleanup_interval_seconds
        last_cleanup = time.monotonic()
        while True:
            await asyncio.sleep(touch_every)
            try:
                async with unit_of_work(self.state.session_factory) as session:
                    await touch_process_sessions(session, self.state.process_id)
                    if time.monotonic() - last_cleanup >= cleanup_every:
                        last_cleanup = time.monotonic()
                        await close_stale_sessions(
                            session,
                            stale_session_age(self.settings),
                            exclude_process_id=self.state.process_id,
                        )
            except Exception:
                log.exception("presence session maintenance failed")
