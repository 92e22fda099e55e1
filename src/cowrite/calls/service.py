"""Calls in a document (`state.presence.calls`): who is in each document's call, and the
relay of WebRTC signals between them, here and through the broker to other processes.

A call lives inside a document's presence: only connections joined to the document may join
its call, the call flags sit on the presence entry (so every process and the REST presence list
see them), and leaving the document in any way (leave, access loss, socket close, timeout, a
dead process) leaves the call through the presence manager's exit hook. Each process keeps a
roster of every call it has heard of (joins, media changes and leaves go to all processes on one
broker channel; a join re-reads the store, the truth), so a signal is checked and routed
without a store read: to the addressed connection here, or to its process's own channel.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from typing import Any

import orjson

from cowrite.calls.protocol import Media, parse_media, parse_replaces, parse_signal
from cowrite.db import unit_of_work
from cowrite.documents.access import document_grant
from cowrite.kit.errors import AppError
from cowrite.kit.ratelimit import TokenBucket
from cowrite.presence.connection import Connection
from cowrite.presence.protocol import ClientMessage, ProtocolError, encode, reply
from cowrite.presence.service import PresenceService
from cowrite.presence.store import PresenceEntry
from cowrite.realtime.codes import CloseCode
from cowrite.state import AppState
from cowrite.workspaces.roles import Role

log = logging.getLogger(__name__)

ROSTER_CHANNEL = "calls:roster"


def signal_channel(process_id: str) -> str:
    """The broker channel that carries signals to the connections of one process."""
    return f"calls:signal:{process_id}"


@dataclass(slots=True)
class Participant:
    connection_id: uuid.UUID
    user_id: uuid.UUID
    full_name: str
    media: Media
    process_id: str

    def public(self) -> dict[str, Any]:
        return {
            "connection_id": str(self.connection_id),
            "user_id": str(self.user_id),
            "full_name": self.full_name,
            "media": self.media,
        }

    def record(self) -> dict[str, Any]:
        return {**self.public(), "process_id": self.process_id}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Participant:
        media = record["media"]
        return cls(
            connection_id=uuid.UUID(str(record["connection_id"])),
            user_id=uuid.UUID(str(record["user_id"])),
            full_name=str(record["full_name"]),
            media={key: bool(media.get(key)) for key in ("audio", "video", "screen")},
            process_id=str(record["process_id"]),
        )

    @classmethod
    def from_entry(cls, entry: PresenceEntry, media: Media) -> Participant:
        return cls(entry.connection_id, entry.user_id, entry.full_name, media, entry.process_id)


class _Limits:
    """One connection's allowances: signals per second, and refused call messages before 1008."""

    __slots__ = ("refusals", "signals")

    def __init__(self, state: AppState) -> None:
        settings = state.settings
        self.signals = TokenBucket(
            settings.rtc_signal_rate_per_second, settings.rtc_signal_rate_burst
        )
        self.refusals = TokenBucket(settings.call_abuse_per_second, settings.call_abuse_burst)


class CallService:
    def __init__(self, state: AppState, presence: PresenceService) -> None:
        self.state = state
        self.settings = state.settings
        self.presence = presence
        self.manager = presence.manager
        self.store = presence.store
        self.broker = state.broker
        self.process_id = state.process_id
        # document id → connection id → participant, in join order (every process's).
        self.calls: dict[uuid.UUID, dict[uuid.UUID, Participant]] = {}
        self._limits: dict[uuid.UUID, _Limits] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    # -- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        await self.broker.subscribe(ROSTER_CHANNEL, self._on_roster)
        await self.broker.subscribe(signal_channel(self.process_id), self._on_signal)
        self.manager.exit_hooks.append(self._exited)
        self.presence.calls = self

    async def close(self) -> None:
        self.presence.calls = None
        if self._exited in self.manager.exit_hooks:
            self.manager.exit_hooks.remove(self._exited)
        await self.broker.unsubscribe(ROSTER_CHANNEL, self._on_roster)
        await self.broker.unsubscribe(signal_channel(self.process_id), self._on_signal)
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # -- messages --------------------------------------------------------------------------------

    async def handle(self, connection: Connection, message: ClientMessage) -> None:
        """One call message; a refused one answers `error`, and too many of them close 1008."""
        try:
            if message.type == "rtc_signal":
                self._relay(connection, message)
            elif message.type == "call_join":
                await self._join(connection, message)
            elif message.type == "call_leave":
                await self._leave(connection, message)
            else:
                await self._media(connection, message)
        except ProtocolError:
            self._refused(connection)
            raise

    def relay(self, connection: Connection, message: ClientMessage) -> None:
        """An `rtc_signal` as the socket reads it (no coroutine); refused like `handle`."""
        try:
            self._relay(connection, message)
        except ProtocolError:
            self._refused(connection)
            raise

    def _refused(self, connection: Connection) -> None:
        if not self._limits_of(connection).refusals.take():
            connection.close_soon(CloseCode.POLICY, "too many refused call messages")

    def participants(self, document_id: uuid.UUID) -> list[Participant]:
        return list(self.calls.get(document_id, {}).values())

    async def _join(self, connection: Connection, message: ClientMessage) -> None:
        document_id = self._document(message)
        media = parse_media(message, required=False)
        replaces = parse_replaces(message)
        await self._require_room(connection, document_id, message.ref)
        roster = await self._load(document_id)
        if replaces is not None and replaces != connection.id:
            await self._replace(document_id, replaces, connection)
            roster = self.calls.setdefault(document_id, {})  # (emptied and dropped meanwhile?)
        was_in = connection.id in roster
        limit = self.settings.call_max_participants
        if not was_in and len(roster) >= limit:
            raise ProtocolError(
                "call_full", f"A call has at most {limit} participants", message.ref
            )
        participant = Participant(
            connection.id, connection.user_id, connection.full_name, media, self.process_id
        )
        roster[connection.id] = participant  # before any await: the count above holds
        # The store counts again for every process at once: two processes admitting the last
        # place at the same moment cannot both have it.
        if not await self.store.join_call(document_id, connection.id, media, limit):
            if not was_in and roster.get(connection.id) is participant:
                self._drop(document_id, connection.id)
            if connection.closed or document_id not in connection.rooms:
                return
            raise ProtocolError(
                "call_full", f"A call has at most {limit} participants", message.ref
            )
        if connection.closed or document_id not in connection.rooms:
            self._drop(document_id, connection.id)  # left the document meanwhile
            return
        self._publish("join", document_id, participant)
        connection.send(reply(self._state_frame(document_id), message.ref))
        kind = "call_media" if was_in else "call_joined"
        self._queue(
            document_id, connection.id, {"type": kind, **self._event(document_id, participant)}
        )

    async def _replace(
        self, document_id: uuid.UUID, old: uuid.UUID, connection: Connection
    ) -> None:
        """A page whose socket dropped joins again from its new connection: its old one (the
        same person's, perhaps not yet closed here) leaves the call and frees its place."""
        participant = self.calls.get(document_id, {}).get(old)
        if participant is None or participant.user_id != connection.user_id:
            return
        self._end(document_id, old, reason="replaced")
        await self.store.update(document_id, old, {"call": None})
        stale = self.manager.connections.get(old)
        if stale is not None:
            stale.close_soon(CloseCode.NORMAL, "replaced by a new connection")

    async def _leave(self, connection: Connection, message: ClientMessage) -> None:
        document_id = self._document(message)
        if connection.id not in self.calls.get(document_id, {}):
            raise ProtocolError("not_in_call", "Not in this document's call", message.ref)
        # The store first: once the leave is answered, every process can give the place away.
        await self.store.update(document_id, connection.id, {"call": None})
        self._end(document_id, connection.id, reason=None, ref=message.ref)

    async def _media(self, connection: Connection, message: ClientMessage) -> None:
        document_id = self._document(message)
        media = parse_media(message, required=True)
        participant = self.calls.get(document_id, {}).get(connection.id)
        if participant is None:
            raise ProtocolError("not_in_call", "Join the call first", message.ref)
        participant.media = media
        self._publish("media", document_id, participant)
        self._queue(
            document_id,
            connection.id,
            {"type": "call_media", **self._event(document_id, participant)},
        )
        if message.ref is not None:
            connection.send(
                reply({"type": "call_media", **self._event(document_id, participant)}, message.ref)
            )
        await self.store.update(document_id, connection.id, {"call": media})

    def _relay(self, connection: Connection, message: ClientMessage) -> None:
        """A signal to one connection of the same call: here at once, else to its process."""
        if not self._limits_of(connection).signals.take():
            raise ProtocolError("rate_limited", "Too many signals; slow down", message.ref)
        document_id = self._document(message)
        to, signal = parse_signal(message, self.settings.rtc_signal_max_bytes)
        roster = self.calls.get(document_id)
        if roster is None or connection.id not in roster:
            raise ProtocolError("not_in_call", "Join the call first", message.ref)
        target = roster.get(to)
        if target is None or to == connection.id:
            raise ProtocolError("not_in_call", "That connection is not in this call", message.ref)
        frame = encode(
            {
                "type": "rtc_signal",
                "document_id": str(document_id),
                "from": connection.id_text,
                "from_user_id": connection.user_id_text,
                "signal": signal,
            }
        )
        if target.process_id == self.process_id:
            self._deliver(document_id, to, frame)
        else:
            # Binary, not JSON: the frame (with its SDP) would be escaped into a string again.
            envelope = document_id.bytes + to.bytes + frame.encode()
            self.broker.publish_soon(signal_channel(target.process_id), envelope)

    # -- pieces ----------------------------------------------------------------------------------

    @staticmethod
    def _document(message: ClientMessage) -> uuid.UUID:
        assert message.document_id is not None  # call messages carry one (checked by the parser)
        return message.document_id

    async def _require_room(self, connection: Connection, document_id: uuid.UUID, ref: Any) -> None:
        """In the document already, or a clear error: `not_found` for a hidden document."""
        if document_id in connection.rooms:
            return
        try:
            async with unit_of_work(self.state.session_factory) as session:
                await document_grant(session, connection.user_id, document_id, Role.VIEWER)
        except AppError:
            raise ProtocolError("not_found", "Document not found", ref) from None
        raise ProtocolError("not_joined", "Join the document first", ref)

    async def _load(self, document_id: uuid.UUID) -> dict[uuid.UUID, Participant]:
        """The document's call as the store has it, merged with what changed while reading it
        (joins not written yet, and roster messages that arrived meanwhile win)."""
        before = set(self.calls.get(document_id, {}))
        entries = await self.store.list_document(document_id)
        stored = {
            entry.connection_id: Participant.from_entry(entry, entry.call)
            for entry in entries
            if entry.call is not None
        }
        roster = self.calls.setdefault(document_id, {})
        # A store that cannot reach Redis lists this process's entries only: then nothing
        # remote is taken for gone.
        shared = any(entry.process_id != self.process_id for entry in entries)
        for connection_id in before & set(roster) if shared else ():
            participant = roster[connection_id]
            if participant.process_id != self.process_id and connection_id not in stored:
                del roster[connection_id]  # gone from the truth (a lost leave message)
        for connection_id, participant in stored.items():
            if connection_id not in roster and connection_id not in before:
                roster[connection_id] = participant  # (one in `before` left meanwhile)
        return roster

    def _state_frame(self, document_id: uuid.UUID) -> dict[str, Any]:
        return {
            "type": "call_state",
            "document_id": str(document_id),
            "participants": [p.public() for p in self.participants(document_id)],
        }

    def _event(self, document_id: uuid.UUID, participant: Participant) -> dict[str, Any]:
        return {"document_id": str(document_id), **participant.public()}

    def _queue(self, document_id: uuid.UUID, source: uuid.UUID, body: dict[str, Any]) -> None:
        """An event for everyone in the document (every process), not the source itself."""
        self.manager.queue(document_id, source, str(body["type"]), body)

    def _drop(self, document_id: uuid.UUID, connection_id: uuid.UUID) -> Participant | None:
        roster = self.calls.get(document_id)
        if roster is None:
            return None
        participant = roster.pop(connection_id, None)
        if not roster:
            del self.calls[document_id]
        return participant

    def _end(
        self,
        document_id: uuid.UUID,
        connection_id: uuid.UUID,
        *,
        reason: str | None,
        ref: Any = None,
    ) -> None:
        """Out of the call: the others hear `call_left`, and so does the connection itself."""
        participant = self._drop(document_id, connection_id)
        if participant is None:
            return
        self._publish("leave", document_id, participant)
        body: dict[str, Any] = {
            "type": "call_left",
            "document_id": str(document_id),
            "connection_id": str(connection_id),
            "user_id": str(participant.user_id),
        }
        self._queue(document_id, connection_id, body)
        own = self.manager.connections.get(connection_id)
        if own is not None and not own.closed:
            if reason is not None:
                body = {**body, "reason": reason}
            own.send(reply(body, ref))

    def _exited(self, document_id: uuid.UUID, connection_id: uuid.UUID) -> None:
        """The presence exit hook: out of the document, so out of its call."""
        self._end(document_id, connection_id, reason="left_document")
        own = self.manager.connections.get(connection_id)
        if own is None or not own.rooms:
            self._limits.pop(connection_id, None)

    def _limits_of(self, connection: Connection) -> _Limits:
        limits = self._limits.get(connection.id)
        if limits is None:
            if len(self._limits) > 2 * len(self.manager.connections) + 64:
                live = self.manager.connections
                self._limits = {c: lim for c, lim in self._limits.items() if c in live}
            limits = self._limits[connection.id] = _Limits(self.state)
        return limits

    def _deliver(self, document_id: uuid.UUID, to: uuid.UUID, frame: str) -> None:
        participant = self.calls.get(document_id, {}).get(to)
        connection = self.manager.connections.get(to)
        if (
            participant is None
            or participant.process_id != self.process_id
            or connection is None
            or document_id not in connection.rooms
        ):
            return  # left meanwhile: a signal for nobody
        connection.send(frame)

    # -- between processes -----------------------------------------------------------------------

    def _publish(self, op: str, document_id: uuid.UUID, participant: Participant) -> None:
        if self.broker.has_peers:
            message = {"op": op, "document_id": str(document_id), **participant.record()}
            self.broker.publish_soon(ROSTER_CHANNEL, orjson.dumps(message))

    def _on_roster(self, message: bytes) -> None:
        try:
            body = orjson.loads(message)
            op = body["op"]
            document_id = uuid.UUID(body["document_id"])
            participant = Participant.from_record(body)
        except (ValueError, KeyError, TypeError, AttributeError):
            log.warning("ignored an undecodable call roster message")
            return
        if op == "leave":
            dropped = self._drop(document_id, participant.connection_id)
            if dropped is not None and dropped.process_id == self.process_id:
                self._taken_out(document_id, dropped)
        elif op in ("join", "media"):
            self.calls.setdefault(document_id, {})[participant.connection_id] = participant

    def _taken_out(self, document_id: uuid.UUID, participant: Participant) -> None:
        """One of this process's participants was taken out of the call by another process (its
        page rejoined there, or that process took this one for dead and reaped its entries): its
        entry's flags go, and the connection hears it rather than staying in a call alone."""
        connection_id = participant.connection_id
        task = asyncio.create_task(self.store.update(document_id, connection_id, {"call": None}))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        own = self.manager.connections.get(connection_id)
        if own is not None and not own.closed:
            own.send(
                encode(
                    {
                        "type": "call_left",
                        "document_id": str(document_id),
                        "connection_id": str(connection_id),
                        "user_id": str(participant.user_id),
                        "reason": "ended_elsewhere",
                    }
                )
            )

    def _on_signal(self, message: bytes) -> None:
        """A signal from another process: document id and target (16 bytes each), the frame."""
        try:
            document_id = uuid.UUID(bytes=message[:16])
            to = uuid.UUID(bytes=message[16:32])
            frame = message[32:].decode()
        except ValueError:
            log.warning("ignored an undecodable signal from another process")
            return
        self._deliver(document_id, to, frame)
