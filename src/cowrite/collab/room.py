"""One shared document in memory and the peers editing it, apart from any transport.

Updates that arrive within one event-loop turn are merged into a single update and fanned out
on the next turn as one frame, encoded once (`Frame`): every peer gets the same object, except a
sender, which gets the merge of the others' updates (or nothing). A batch grows with the load by
itself (the busier the loop, the longer a turn, the more a turn gathers) and adds no latency when
idle; `tick_seconds` is the least time between two batches of a room (0: none), which bounds the
writes per socket per second under load without delaying an update after a quiet spell. Peers
take frames without blocking, so a slow socket never holds up the room. Everything here is
synchronous and runs on the event loop.

Updates made here go to the other processes merged per event-loop turn as well.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from pycrdt import Doc, Text, merge_updates

from cowrite.collab import protocol
from cowrite.collab.formats import TEXT_NAME, BodyFormat, MarkdownBody
from cowrite.collab.protocol import (
    AwarenessEntry,
    AwarenessMessage,
    LimitExceeded,
    Message,
    ProtocolError,
    QueryAwareness,
    SyncStep1,
    SyncStep2,
    SyncUpdate,
)
from cowrite.realtime.outbox import Frame

__all__ = ["TEXT_NAME", "Peer", "Room", "RoomListener", "apply_and_capture"]
FAN_OUT_CHUNK = 256  # peers served per event-loop turn (a bigger room takes several turns)
HEARD_MERGE_AT = 1000  # heard updates kept apart before they are merged into one


def apply_and_capture(doc: Doc, update: bytes) -> bytes | None:
    """Apply `update` to `doc`; the part of it that changed the document, or None if nothing did
    (Yjs skips what a document already has, so this costs the update's size, not the doc's)."""
    captured: list[bytes] = []
    subscription = doc.observe(lambda event: captured.append(event.update))
    try:
        doc.apply_update(update)
    finally:
        doc.unobserve(subscription)
    if not captured:
        return None
    return captured[0] if len(captured) == 1 else merge_updates(*captured)


class Peer(Protocol):
    """A recipient of a room's frames: a socket, a fake in tests."""

    connection_id: uuid.UUID
    user_id: uuid.UUID | None
    login_id: uuid.UUID | None
    can_write: bool
    awareness_ids: set[int]

    def send(self, frame: bytes) -> None:
        """Queue a frame for this peer alone; never blocks (a peer that falls behind closes
        itself)."""
        ...

    def send_frame(self, frame: Frame, update: bytes | None = None) -> None:
        """Queue a frame made once for every peer (`update`: the document update it carries,
        if any); never blocks."""
        ...

    def request_close(self, code: int, reason: str) -> None:
        """Close soon with this code; frames after it are dropped."""
        ...


class RoomListener(Protocol):
    """Where a room reports what it accepted: the update log, the broker, content sync."""

    def update_accepted(self, room: Room, update: bytes, author_id: uuid.UUID | None) -> None: ...

    def frame_ready(self, room: Room, frame: bytes) -> None:
        """A merged update or awareness frame produced locally, for the other processes."""
        ...

    def shares_updates(self) -> bool:
        """Whether other processes may be listening (else nothing is prepared for them)."""
        ...


@dataclass(frozen=True, slots=True)
class RoomLimits:
    """What one peer may make a room hold (0: no limit)."""

    max_text_bytes: int = 0  # the document's body, UTF-8 (a rich one as XML): the REST limit
    awareness_state_bytes: int = 64 * 1024  # one client's awareness state
    awareness_entries: int = 64  # entries in one awareness message
    awareness_clients: int = 8  # awareness client ids one peer may own


@dataclass(slots=True)
class _FanOut:
    peers: list[Peer]
    frame: Frame
    update: bytes | None  # the document update the frame carries, if any
    personal: dict[Peer, bytes | None]
    index: int = 0


class Room:
    def __init__(
        self,
        document_id: uuid.UUID,
        workspace_id: uuid.UUID,
        listener: RoomListener,
        *,
        tick_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        body: BodyFormat | None = None,
        limits: RoomLimits | None = None,
    ) -> None:
        self.document_id = document_id
        self.workspace_id = workspace_id
        self.doc: Doc = Doc()
        self.body: BodyFormat = body or MarkdownBody()
        self.body.watch(self.doc)
        self.peers: set[Peer] = set()
        self.listener = listener
        self.tick_seconds = tick_seconds
        self.clock = clock
        self.last_author: uuid.UUID | None = None
        self.changed = False
        # Counts the changes to the body; what was derived from it at one count still holds.
        self.revision = 0
        # (update, the local peer that sent it): fanned out on the next tick.
        self._pending: list[tuple[bytes, Peer | None]] = []
        self._pending_awareness: dict[int, tuple[AwarenessEntry, bool]] = {}
        # Peers answered a sync step 1 since the last batch: the answer held the batch already.
        self._answered: set[Peer] = set()
        # Local updates not yet handed to the other processes (sent on the next loop turn).
        self._outbound: list[bytes] = []
        # Updates heard from other processes, until repair checks that the database has them.
        self._heard: list[bytes] = []
        self._awareness: dict[int, AwarenessEntry] = {}
        self._awareness_clock: dict[int, int] = {}
        self._awareness_owner: dict[int, Peer] = {}
        self._tick: asyncio.TimerHandle | asyncio.Handle | None = None
        self._last_flush = -tick_seconds
        self._jobs: deque[_FanOut] = deque()
        self.limits = limits or RoomLimits()
        # An upper bound on the text's UTF-8 size: an update adds at most its own length.
        self._size_bound = 0

    @property
    def text(self) -> Text:
        """The body of a Markdown document."""
        return self.doc.get(TEXT_NAME, type=Text)

    def markdown(self) -> str:
        """The body as `documents.content` holds it."""
        return self.body.markdown(self.doc)

    # -- loading ------------------------------------------------------------------------------

    def load(self, updates: list[bytes]) -> None:
        """Fill the document from stored state (snapshot first, then log rows)."""
        if updates:
            self.doc.apply_update(updates[0] if len(updates) == 1 else merge_updates(*updates))
        self._size_bound = self.body.size(self.doc)

    # -- peers --------------------------------------------------------------------------------

    def join(self, peer: Peer) -> None:
        """Add a peer and open the handshake: our state vector, and who else is here."""
        self.peers.add(peer)
        peer.send(protocol.sync_step1(self.doc.get_state()))
        if self._awareness:
            peer.send(self.awareness_frame())

    def leave(self, peer: Peer) -> None:
        """Remove a peer and tell the others its awareness states are gone (no ghosts)."""
        self.peers.discard(peer)
        self._answered.discard(peer)
        for client_id in peer.awareness_ids:
            if self._awareness_owner.get(client_id) is peer:
                del self._awareness_owner[client_id]
            # The clock goes with the state: the table holds only clients present.
            clock = self._awareness_clock.pop(client_id, 0) + 1
            if client_id in self._awareness:
                del self._awareness[client_id]
                entry = AwarenessEntry(client_id, clock, protocol.NULL_STATE)
                self._pending_awareness[client_id] = (entry, True)
        peer.awareness_ids.clear()
        if self._pending_awareness:
            self._schedule()

    def awareness_frame(self) -> bytes:
        return protocol.awareness_message(protocol.encode_awareness(list(self._awareness.values())))

    # -- messages -----------------------------------------------------------------------------

    def receive_frame(self, peer: Peer, messages: list[Message]) -> int:
        """Handle one frame's messages from a local peer; the bytes queued for it in reply.
        One sync step 1 and one awareness query per frame are answered: a repeat would only
        ask for the same answer again."""
        replied = 0
        answered: set[type] = set()
        for message in messages:
            if isinstance(message, SyncStep1 | QueryAwareness):
                kind = type(message)
                if kind in answered:
                    continue
                answered.add(kind)
            replied += self.receive(peer, message)
        return replied

    def receive(self, peer: Peer, message: Message) -> int:
        """Handle one message from a local peer (the bytes queued for it in reply);
        `ProtocolError` means refuse it."""
        if isinstance(message, SyncUpdate | SyncStep2):
            if message.update != protocol.EMPTY_UPDATE and peer.can_write:
                self._check_size(message.update)
                self.apply_update(message.update, peer, peer.user_id)
        elif isinstance(message, SyncStep1):
            try:
                missing = self.doc.get_update(message.state_vector)
            except ValueError as exc:
                raise ProtocolError("invalid state vector") from exc
            reply = protocol.sync_step2(missing)
            peer.send(reply)
            if self._pending:
                self._answered.add(peer)  # it has this batch now: not twice
            return len(reply)
        elif isinstance(message, AwarenessMessage):
            self.apply_awareness(message.payload, peer, local=True)
        elif isinstance(message, QueryAwareness):
            reply = self.awareness_frame()
            peer.send(reply)
            return len(reply)
        return 0

    def _check_size(self, update: bytes) -> None:
        """Refuse (the body's `oversize` error) an update that would take the body past the
        limit; the document stays untouched. Cheap while far from it: the text is measured
        only when the bound says it might not fit, and tried on a copy only when it does not."""
        limit = self.limits.max_text_bytes
        added = len(update) * self.body.growth
        if not limit or self._size_bound + added <= limit:
            return
        current = self.body.size(self.doc)
        self._size_bound = current
        if current + added <= limit:
            return
        trial: Doc = Doc()
        trial.apply_update(self.doc.get_update())
        try:
            trial.apply_update(update)
        except Exception as exc:
            raise ProtocolError("update refused by the document") from exc
        size = self.body.size(trial)
        if size > limit and size > current:
            raise self.body.oversize(f"the document would pass {limit} bytes")

    def apply_update(
        self,
        update: bytes,
        origin: Peer | None,
        author_id: uuid.UUID | None,
        *,
        integrated: bool = False,
    ) -> None:
        """Validate, apply and queue for fan-out an update made here (a peer, or REST);
        `integrated` when it was made on this room's document already."""
        if not integrated:
            self._integrate(update)
        else:
            self._size_bound += len(update) * self.body.growth
        self.listener.update_accepted(self, update, author_id)
        self.last_author = author_id
        self.changed = True
        self.revision += 1
        self._pending.append((update, origin))
        self._schedule()
        if not self.listener.shares_updates():
            return
        if not self._outbound:
            asyncio.get_running_loop().call_soon(self._send_outbound)
        self._outbound.append(update)

    def _send_outbound(self) -> None:
        """Hand this loop turn's local updates, merged, to the other processes."""
        outbound, self._outbound = self._outbound, []
        if outbound:
            merged = outbound[0] if len(outbound) == 1 else merge_updates(*outbound)
            self.listener.frame_ready(self, protocol.sync_update(merged))

    def apply_remote(self, frame: bytes) -> None:
        """A frame another process produced: apply and fan out here; it is logged there."""
        for message in protocol.parse_frame(frame):
            if isinstance(message, SyncUpdate | SyncStep2):
                self._integrate(message.update)
                self.changed = True
                self.revision += 1
                self._pending.append((message.update, None))
                self._schedule()
                self._heard.append(message.update)
                if len(self._heard) >= HEARD_MERGE_AT:
                    self._heard = [merge_updates(*self._heard)]
            elif isinstance(message, AwarenessMessage):
                self.apply_awareness(message.payload, None, local=False)

    def heal(self, stored: bytes) -> bool:
        """Apply stored state (from the database) the room may lack; local peers get only what
        it really lacked. True when something was missing."""
        missing = apply_and_capture(self.doc, stored)
        if missing is None:
            return False
        self._size_bound += len(missing) * self.body.growth
        self.changed = True
        self.revision += 1
        self._pending.append((missing, None))
        self._schedule()
        return True

    def take_heard(self) -> list[bytes]:
        """The updates heard from other processes since the last call."""
        heard, self._heard = self._heard, []
        return heard

    def _integrate(self, update: bytes) -> None:
        self.body.check(self.doc, update)
        try:
            self.doc.apply_update(update)
        except Exception as exc:
            raise ProtocolError("update refused by the document") from exc
        self._size_bound += len(update) * self.body.growth

    def apply_awareness(self, payload: bytes, owner: Peer | None, *, local: bool) -> None:
        """Yjs' rule: a newer clock wins; an equal clock only to remove a state. A local peer
        sets or removes only the client ids it owns (a new id becomes its own, up to a few),
        within the limits on entries and state size."""
        limits = self.limits
        entries = protocol.decode_awareness(payload, limits.awareness_entries if local else None)
        for entry in entries:
            client_id = entry.client_id
            current_owner = self._awareness_owner.get(client_id)
            if owner is not None:
                if current_owner is not None and current_owner is not owner:
                    continue  # another connection's client id: not yours to change
                if current_owner is None:
                    if entry.removed:
                        continue  # nothing of yours to remove
                    if len(owner.awareness_ids) >= limits.awareness_clients:
                        raise LimitExceeded("too many awareness clients on one connection")
                if len(entry.state) > limits.awareness_state_bytes:
                    raise LimitExceeded("awareness state too big", too_big=True)
            known = self._awareness_clock.get(client_id)
            present = client_id in self._awareness
            if known is not None and not (
                known < entry.clock or (known == entry.clock and entry.removed and present)
            ):
                continue
            self._awareness_clock[client_id] = entry.clock
            if entry.removed:
                del self._awareness_clock[client_id]  # only clients present keep a clock
                self._awareness.pop(client_id, None)
                if current_owner is not None:
                    current_owner.awareness_ids.discard(client_id)
                    del self._awareness_owner[client_id]
            else:
                self._awareness[client_id] = entry
                if owner is not None:
                    self._awareness_owner[client_id] = owner
                    owner.awareness_ids.add(client_id)
            self._pending_awareness[client_id] = (entry, local)
        if self._pending_awareness:
            self._schedule()

    # -- fan-out ------------------------------------------------------------------------------

    def _schedule(self) -> None:
        if self._tick is None:
            loop = asyncio.get_running_loop()
            wait = self._last_flush + self.tick_seconds - self.clock()
            if wait > 0:
                self._tick = loop.call_later(wait, self.flush)
            else:
                self._tick = loop.call_soon(self.flush)

    def flush(self) -> None:
        """Send what arrived since the last tick: one merged update, one awareness frame."""
        if self._tick is not None:
            self._tick.cancel()
            self._tick = None
        self._last_flush = self.clock()
        self._send_outbound()
        pending, self._pending = self._pending, []
        if pending:
            self._fan_out_updates(pending)
        self._answered.clear()
        if self._pending_awareness:
            pending_awareness, self._pending_awareness = self._pending_awareness, {}
            entries = [entry for entry, _ in pending_awareness.values()]
            frame = protocol.awareness_message(protocol.encode_awareness(entries))
            self._send_to_all(Frame(frame), None, {})
            local = [entry for entry, is_local in pending_awareness.values() if is_local]
            if local:
                if len(local) != len(entries):
                    frame = protocol.awareness_message(protocol.encode_awareness(local))
                self.listener.frame_ready(self, frame)

    def _send_to_all(
        self, frame: Frame, update: bytes | None, personal: dict[Peer, bytes | None]
    ) -> None:
        """Queue one frame for every peer (`personal` overrides it for some); sent in order."""
        self._jobs.append(_FanOut(list(self.peers), frame, update, personal))
        if len(self._jobs) == 1:
            self._run_jobs()

    def _run_jobs(self) -> None:
        """Send queued fan-outs a chunk of peers at a time, so one big room does not hold the
        event loop (and the update log's commits) for a whole pass."""
        budget = FAN_OUT_CHUNK
        jobs = self._jobs
        while jobs:
            job = jobs[0]
            end = min(len(job.peers), job.index + budget)
            frame, update, personal = job.frame, job.update, job.personal
            if personal:
                for peer in job.peers[job.index : end]:
                    if peer in personal:
                        own = personal[peer]
                        if own is not None:
                            peer.send(own)
                    else:
                        peer.send_frame(frame, update)
            else:
                for peer in job.peers[job.index : end]:
                    peer.send_frame(frame, update)
            budget -= end - job.index
            job.index = end
            if end == len(job.peers):
                jobs.popleft()
            if budget <= 0 and jobs:
                asyncio.get_running_loop().call_soon(self._run_jobs)
                return

    def _fan_out_updates(self, pending: list[tuple[bytes, Peer | None]]) -> None:
        updates = [update for update, _ in pending]
        merged = updates[0] if len(updates) == 1 else merge_updates(*updates)
        frame = Frame(protocol.sync_update(merged))
        senders = {origin for _, origin in pending if origin is not None}
        personal: dict[Peer, bytes | None] = dict.fromkeys(self._answered)
        for sender in senders - self._answered:
            others = [update for update, origin in pending if origin is not sender]
            if not others:
                personal[sender] = None
            elif len(others) == 1:
                personal[sender] = protocol.sync_update(others[0])
            else:
                personal[sender] = protocol.sync_update(merge_updates(*others))
        self._send_to_all(frame, merged, personal)
