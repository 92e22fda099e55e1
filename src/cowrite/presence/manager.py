"""The connection manager: connections, document rooms, and fan-out (local and via the broker).

Only the in-memory side lives here (no database): the presence service adds sessions and
authorization around it. All the operations a caller needs: register / unregister, join /
leave, send to one connection, send to all of a user's connections, broadcast to a room, list a
room's users, tell whether a user is online.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from cowrite.broker.base import Broker
from cowrite.kit.clock import utcnow
from cowrite.presence.connection import Connection, EncodedEvent
from cowrite.presence.protocol import encode, reply
from cowrite.presence.rooms import LATEST_KINDS, Room, pack_events, unpack_events
from cowrite.presence.store import PresenceEntry, PresenceStore

log = logging.getLogger(__name__)

# Told (document_id, connection_id) whenever a connection leaves a document, however it goes
# (leave, eviction on access loss, socket close, timeout, a dead process's entry): calls hook here.
ExitHook = Callable[[uuid.UUID, uuid.UUID], None]


class ConnectionManager:
    def __init__(
        self,
        store: PresenceStore,
        broker: Broker,
        *,
        process_id: str,
        flush_interval: float,
    ) -> None:
        self.store = store
        self.broker = broker
        self.process_id = process_id
        self.flush_interval = flush_interval
        self.connections: dict[uuid.UUID, Connection] = {}
        self.rooms: dict[uuid.UUID, Room] = {}
        self._by_user: dict[uuid.UUID, set[uuid.UUID]] = {}
        self._room_handlers: dict[uuid.UUID, Callable[[bytes], Awaitable[None]]] = {}
        # Rooms with events waiting, each with its own tick timer (armed by its first event):
        # rooms flush at their own phase, so sends spread over the interval. One timer for all
        # rooms sent every room's frames in one burst, which measured 7-9 ms worse at p99 for
        # 1,000 clients over 100 rooms (same frames, same CPU).
        self._dirty: dict[Room, asyncio.TimerHandle] = {}  # by the room: it hashes faster
        self._store_timer: asyncio.TimerHandle | None = None
        # Events for the other processes, sent as they come: one broker message per room per
        # loop turn. The receivers fold them into their own tick, so crossing processes adds
        # only the broker's hop, overlapped with the tick wait both sides have anyway.
        self._outbound: dict[Room, list[EncodedEvent]] = {}
        # Writes the ticks' store changes, one batch at a time.
        self._sender: asyncio.Task[None] | None = None
        # Store writes for cursor/selection, coalesced per tick like the events themselves.
        self._store_changes: dict[tuple[uuid.UUID, uuid.UUID], dict[str, Any]] = {}
        self.exit_hooks: list[ExitHook] = []

    # -- connections -----------------------------------------------------------------------------

    def register(self, connection: Connection) -> None:
        self.connections[connection.id] = connection
        self._by_user.setdefault(connection.user_id, set()).add(connection.id)

    def unregister(self, connection: Connection) -> None:
        self.connections.pop(connection.id, None)
        ids = self._by_user.get(connection.user_id)
        if ids is not None:
            ids.discard(connection.id)
            if not ids:
                del self._by_user[connection.user_id]

    def user_connections(self, user_id: uuid.UUID) -> list[Connection]:
        return [
            self.connections[c] for c in self._by_user.get(user_id, ()) if c in self.connections
        ]

    def is_online(self, user_id: uuid.UUID) -> bool:
        return bool(self._by_user.get(user_id))

    def send(self, connection_id: uuid.UUID, frame: str) -> bool:
        connection = self.connections.get(connection_id)
        if connection is None:
            return False
        connection.send(frame)
        return True

    def send_to_user(self, user_id: uuid.UUID, frame: str) -> int:
        """To every device of a user; returns how many connections it went to."""
        targets = self.user_connections(user_id)
        for connection in targets:
            connection.send(frame)
        return len(targets)

    # -- rooms -----------------------------------------------------------------------------------

    async def join(
        self, connection: Connection, entry: PresenceEntry, workspace_id: uuid.UUID
    ) -> None:
        """Put a connection into a document room; peers get `user_joined` on the next tick."""
        document_id = entry.document_id
        room = self.rooms.get(document_id)
        if room is None:
            room = Room(document_id, workspace_id)
            self.rooms[document_id] = room
            await self._open_channel(room)
        await self.store.add(entry)
        room.members[connection.id] = connection
        connection.rooms.add(document_id)
        self.queue(
            document_id,
            connection.id,
            "user_joined",
            {"type": "user_joined", "document_id": str(document_id), "user": entry.to_public()},
        )

    async def leave(
        self, connection: Connection, document_id: uuid.UUID, reason: str | None = None
    ) -> bool:
        """Take a connection out of a room; peers get `user_left`. False when it was not in."""
        room = self.rooms.get(document_id)
        connection.rooms.discard(document_id)
        if room is None or room.members.pop(connection.id, None) is None:
            return False
        self.document_exited(document_id, connection.id)
        self._store_changes.pop((document_id, connection.id), None)
        await self.store.remove(document_id, connection.id)
        body: dict[str, Any] = {
            "type": "user_left",
            "document_id": room.document_text,
            "user_id": connection.user_id_text,
            "connection_id": connection.id_text,
        }
        if reason is not None:
            # The connection was taken out by the server: tell it too.
            body["reason"] = reason
            connection.send_event(EncodedEvent(connection.id, "", encode(body)))
        self.queue(document_id, connection.id, "user_left", body)
        return True

    def document_exited(self, document_id: uuid.UUID, connection_id: uuid.UUID) -> None:
        """Run the exit hooks (before `user_left` is queued, so peers hear those events first)."""
        for hook in self.exit_hooks:
            try:
                hook(document_id, connection_id)
            except Exception:
                log.exception("a document exit hook failed")

    async def presence_list(self, document_id: uuid.UUID, ref: Any = None) -> str:
        users = [entry.to_public() for entry in await self.store.list_document(document_id)]
        return reply(
            {"type": "presence_list", "document_id": str(document_id), "users": users}, ref
        )

    async def room_users(self, document_id: uuid.UUID) -> list[PresenceEntry]:
        return await self.store.list_document(document_id)

    def document_text(self, document_id: uuid.UUID) -> str:
        """A document id as events carry it (kept by its room, so not formatted per event)."""
        room = self.rooms.get(document_id)
        return str(document_id) if room is None else room.document_text

    def rooms_of_workspace(self, workspace_id: uuid.UUID) -> list[Room]:
        return [room for room in self.rooms.values() if room.workspace_id == workspace_id]

    # -- events ----------------------------------------------------------------------------------

    def queue(
        self, document_id: uuid.UUID, source: uuid.UUID, kind: str, body: dict[str, Any]
    ) -> None:
        """An event for a room's next tick (local members and other processes)."""
        room = self.rooms.get(document_id)
        if room is None:
            # Nobody here: the other processes may still have members (external presence).
            if self.broker.has_peers:
                event = EncodedEvent(source, _latest(kind), encode(body))
                self.broker.publish_soon(f"presence:{document_id}", pack_events([event]))
            return
        self.queue_in(room, source, kind, body)

    def queue_in(self, room: Room, source: uuid.UUID, kind: str, body: dict[str, Any]) -> None:
        """`queue` for a room at hand (the cursor path looks it up once)."""
        if self.broker.has_peers:
            data = encode(body)  # once, for this tick and for the other processes
            room.queue(source, kind, data)
            outbound = self._outbound.get(room)
            if outbound is None:
                if not self._outbound:
                    asyncio.get_running_loop().call_soon(self._send_outbound)
                outbound = self._outbound[room] = []
            outbound.append(EncodedEvent(source, _latest(kind), data))
        else:
            room.queue(source, kind, body)
        self._arm(room)

    def _arm(self, room: Room) -> None:
        if room not in self._dirty:
            self._dirty[room] = asyncio.get_running_loop().call_later(
                self.flush_interval, self._flush_room, room
            )

    def _send_outbound(self) -> None:
        outbound, self._outbound = self._outbound, {}
        for room, events in outbound.items():
            self.broker.publish_soon(room.channel, pack_events(events))

    def broadcast(self, document_id: uuid.UUID, body: dict[str, Any], source: uuid.UUID) -> None:
        """Send an event to everyone in a room (but the source), on the next tick."""
        self.queue(document_id, source, str(body.get("type", "")), body)

    def note_state(
        self, document_id: uuid.UUID, connection_id: uuid.UUID, changes: dict[str, Any]
    ) -> None:
        """Cursor/selection state for the store, written once per tick (latest wins)."""
        self._store_changes.setdefault((document_id, connection_id), {}).update(changes)

    def _flush_room(self, room: Room) -> None:
        """A room's tick: its waiting events go to its members."""
        self._dirty.pop(room, None)
        room.deliver(room.take_pending())
        if self._store_changes and self._store_timer is None and self._sender is None:
            # Store writes batch over one interval across all rooms.
            self._store_timer = asyncio.get_running_loop().call_later(
                self.flush_interval, self._store_due
            )

    def _store_due(self) -> None:
        self._store_timer = None
        if self._store_changes:
            self._ensure_sender()

    def _flush(self) -> None:
        """Every room with events waiting hands them to its members now."""
        dirty, self._dirty = self._dirty, {}
        for room, timer in dirty.items():
            timer.cancel()
            room.deliver(room.take_pending())
        if self._store_changes:
            self._ensure_sender()

    def _ensure_sender(self) -> None:
        if self._sender is None:
            self._sender = asyncio.create_task(self._send_outgoing())

    async def _send_outgoing(self) -> None:
        """Write the ticks' store changes, one batch at a time, until nothing is left."""
        try:
            while self._store_changes:
                changes, self._store_changes = self._store_changes, {}
                await self._write_store(changes)
        finally:
            self._sender = None

    async def _write_store(
        self, changes: dict[tuple[uuid.UUID, uuid.UUID], dict[str, Any]]
    ) -> None:
        now = utcnow()
        for values in changes.values():
            values["last_seen_at"] = now  # the tick's own dicts: no copy needed
        try:
            await self.store.update_many(changes)
        except Exception:
            log.exception("presence store write failed")

    async def _open_channel(self, room: Room) -> None:
        async def on_message(message: bytes) -> None:
            current = self.rooms.get(room.document_id)
            if current is not None:
                for event in unpack_events(message):
                    current.queue(event.source, event.kind, event.data)
                self._arm(current)

        self._room_handlers[room.document_id] = on_message
        await self.broker.subscribe(room.channel, on_message)

    async def close_room_if_empty(self, document_id: uuid.UUID) -> None:
        room = self.rooms.get(document_id)
        if room is None or room.members:
            return
        # Nobody here to deliver to; what is outbound (the last user_left) still goes out.
        timer = self._dirty.pop(room, None)
        if timer is not None:
            timer.cancel()
        del self.rooms[document_id]
        handler = self._room_handlers.pop(document_id, None)
        if handler is not None:
            await self.broker.unsubscribe(room.channel, handler)

    async def drain(self) -> None:
        """Flush every room and wait for pending store writes and publishes (shutdown, tests)."""
        if self._store_timer is not None:
            self._store_timer.cancel()
            self._store_timer = None
        self._send_outbound()
        self._flush()
        if self._sender is not None:
            await asyncio.gather(self._sender, return_exceptions=True)
        await self.broker.flush()


def _latest(kind: str) -> str:
    return kind if kind in LATEST_KINDS else ""
