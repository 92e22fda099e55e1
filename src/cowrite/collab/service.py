"""Co-editing for the whole process (`state.collab`): rooms loaded once and unloaded when idle,
the update log, content sync, REST writes merged into live text, and access changes."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable

from pycrdt import Doc, Text
from sqlalchemy.ext.asyncio import AsyncSession

from cowrite.collab import protocol, repository, sessions
from cowrite.collab.log import UpdateLog
from cowrite.collab.protocol import ProtocolError
from cowrite.collab.repository import LogRow
from cowrite.collab.room import TEXT_NAME, Peer, Room, RoomLimits
from cowrite.collab.textdiff import byte_offsets, text_edits
from cowrite.db import unit_of_work
from cowrite.kit.clock import utcnow
from cowrite.kit.errors import NotFound
from cowrite.kit.events import DocumentTrashed, LoginsRevoked, MembershipChanged, WorkspaceDeleted
from cowrite.realtime.codes import CloseCode
from cowrite.state import AppState
from cowrite.workspaces.roles import Role

log = logging.getLogger(__name__)


def seed_state(content: str) -> bytes:
    """The first Yjs state of a document that so far only had `documents.content`."""
    doc: Doc = Doc()
    text = doc.get(TEXT_NAME, type=Text)
    if content:
        text.insert(0, content)
    return doc.get_update()


def replace_in_text(doc: Doc, text: Text, new: str) -> bytes | None:
    """Edit `text` into `new` with a minimal diff; the update that did it, or None."""
    old = str(text)
    edits = byte_offsets(old, text_edits(old, new))
    if not edits:
        return None
    captured: list[bytes] = []
    subscription = doc.observe(lambda event: captured.append(event.update))
    try:
        with doc.transaction():
            for start, length, inserted in edits:
                if length:
                    del text[start : start + length]
                if inserted:
                    text.insert(start, inserted)
    finally:
        doc.unobserve(subscription)
    return captured[0] if captured else None


class CollabService:
    def __init__(self, state: AppState) -> None:
        self.state = state
        settings = state.settings
        self.tick_seconds = settings.yjs_tick_ms / 1000
        self.grace_seconds = settings.yjs_room_grace_seconds
        self.content_sync_seconds = settings.yjs_content_sync_seconds
        self.log = UpdateLog(
            state.session_factory,
            state.engine,
            flush_interval=settings.yjs_flush_interval_ms / 1000,
            compact_threshold=settings.yjs_compact_threshold,
            commit_lag=state.metrics.yjs_commit_lag,
            version_fold_seconds=settings.version_fold_seconds,
            save_within=settings.shutdown_save_seconds,
        )
        self.rooms: dict[uuid.UUID, Room] = {}
        self._loading: dict[uuid.UUID, asyncio.Future[Room]] = {}
        self._unload_timers: dict[uuid.UUID, asyncio.TimerHandle] = {}
        self._content_timers: dict[uuid.UUID, asyncio.TimerHandle] = {}
        self._remote_handlers: dict[uuid.UUID, Callable[[bytes], None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._touching: asyncio.Task[None] | None = None
        # Peers between token check and join, and whether an access change came meanwhile.
        self._admitting: dict[Peer, bool] = {}
        self.limits = RoomLimits(
            max_text_bytes=settings.max_document_bytes,
            awareness_state_bytes=settings.yjs_awareness_max_state_bytes,
            awareness_entries=settings.yjs_awareness_max_entries,
            awareness_clients=settings.yjs_awareness_max_clients,
        )

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        self.log.start()
        self._touching = asyncio.create_task(self._touch_sessions(), name="yjs-session-touch")
        events = self.state.events
        events.subscribe(MembershipChanged, self._on_membership_changed)
        events.subscribe(WorkspaceDeleted, self._on_workspace_deleted)
        events.subscribe(DocumentTrashed, self._on_document_trashed)
        events.subscribe(LoginsRevoked, self._on_logins_revoked)

    async def close(self) -> None:
        if self._touching is not None:
            self._touching.cancel()
        events = self.state.events
        events.unsubscribe(MembershipChanged, self._on_membership_changed)
        events.unsubscribe(WorkspaceDeleted, self._on_workspace_deleted)
        events.unsubscribe(DocumentTrashed, self._on_document_trashed)
        events.unsubscribe(LoginsRevoked, self._on_logins_revoked)
        for timer in [*self._unload_timers.values(), *self._content_timers.values()]:
            timer.cancel()
        for room in list(self.rooms.values()):
            for peer in list(room.peers):
                peer.request_close(CloseCode.GOING_AWAY, "server shutting down")
            room.flush()
            self._sync_content(room)
        await self.log.close()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _touch_sessions(self) -> None:
        interval = self.state.settings.session_touch_interval_seconds
        while True:
            await asyncio.sleep(interval)
            connection_ids = [
                peer.connection_id for room in self.rooms.values() for peer in room.peers
            ]
            try:
                await sessions.touch_yjs_sessions(self.state, connection_ids)
            except Exception:
                log.exception("touching Yjs sessions failed")

    # -- rooms --------------------------------------------------------------------------------

    async def open_room(self, document_id: uuid.UUID) -> Room:
        """The live room, loading it once however many clients ask at the same moment."""
        room = self.rooms.get(document_id)
        if room is not None:
            return room
        loading = self._loading.get(document_id)
        if loading is not None:
            return await asyncio.shield(loading)
        future: asyncio.Future[Room] = asyncio.get_running_loop().create_future()
        self._loading[document_id] = future
        try:
            room = await self._load(document_id)
            channel = _channel(document_id)
            handler = self._remote_handler(room)
            await self.state.broker.subscribe(channel, handler)
            self._remote_handlers[document_id] = handler
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: joiners that wait re-raise it themselves
            raise
        finally:
            del self._loading[document_id]
        self.rooms[document_id] = room
        future.set_result(room)
        self._schedule_unload(room)  # cancelled by the first join
        return room

    async def _load(self, document_id: uuid.UUID) -> Room:
        async with unit_of_work(self.state.session_factory) as session:
            head = await repository.document_head(session, document_id)
            if head is None:
                raise NotFound("Document not found", code="not_found")
            stored = await _stored_state(session, document_id, head.content)
        room = Room(
            document_id,
            head.workspace_id,
            self,
            tick_seconds=self.tick_seconds,
            limits=self.limits,
        )
        room.load(stored)
        self.log.note_rows(document_id, len(stored) - 1)
        return room

    def admitting(self, peer: Peer) -> None:
        """Watch a peer being admitted: an access change that comes before it joins a room is
        noted, and `admitted` tells the caller to check its grant again."""
        self._admitting[peer] = False

    def admitted(self, peer: Peer) -> bool:
        """Stop watching (the peer joined, or was refused); True if its access changed."""
        return self._admitting.pop(peer, False)

    def _note_admitting(self, matches: Callable[[Peer], bool]) -> None:
        for peer in self._admitting:
            if matches(peer):
                self._admitting[peer] = True

    def join(self, room: Room, peer: Peer) -> None:
        timer = self._unload_timers.pop(room.document_id, None)
        if timer is not None:
            timer.cancel()
        room.join(peer)

    def leave(self, room: Room, peer: Peer) -> None:
        if peer not in room.peers:
            return
        room.leave(peer)
        if not room.peers:
            room.flush()
            self._sync_content(room)
            self._schedule_unload(room)

    def _schedule_unload(self, room: Room) -> None:
        if room.peers or room.document_id in self._unload_timers:
            return
        loop = asyncio.get_running_loop()
        self._unload_timers[room.document_id] = loop.call_later(
            self.grace_seconds, lambda: self._spawn(self._unload(room))
        )

    async def _unload(self, room: Room) -> None:
        self._unload_timers.pop(room.document_id, None)
        if room.peers or self.rooms.get(room.document_id) is not room:
            return
        await self.log.flush()  # a reload must find everything this room accepted
        if room.peers or self.rooms.get(room.document_id) is not room:
            return
        del self.rooms[room.document_id]
        timer = self._content_timers.pop(room.document_id, None)
        if timer is not None:
            timer.cancel()
        self.log.forget(room.document_id)
        handler = self._remote_handlers.pop(room.document_id, None)
        if handler is not None:
            await self.state.broker.unsubscribe(_channel(room.document_id), handler)

    def _spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("co-editing background work failed", exc_info=task.exception())

    # -- what rooms report (RoomListener) -----------------------------------------------------

    def update_accepted(self, room: Room, update: bytes, author_id: uuid.UUID | None) -> None:
        self.log.append(room.document_id, update, author_id)
        if room.document_id not in self._content_timers:
            loop = asyncio.get_running_loop()
            self._content_timers[room.document_id] = loop.call_later(
                self.content_sync_seconds, self._sync_content, room
            )

    def frame_ready(self, room: Room, frame: bytes) -> None:
        self.state.broker.publish_soon(_channel(room.document_id), frame)

    def shares_updates(self) -> bool:
        return self.state.broker.has_peers

    def _sync_content(self, room: Room) -> None:
        timer = self._content_timers.pop(room.document_id, None)
        if timer is not None:
            timer.cancel()
        if room.changed:
            room.changed = False
            self.log.write_content(room.document_id, str(room.text), room.last_author)

    def _remote_handler(self, room: Room) -> Callable[[bytes], None]:
        def handle(frame: bytes) -> None:
            try:
                room.apply_remote(frame)
            except ProtocolError:
                log.warning("ignoring a malformed Yjs frame from the broker")

        return handle

    # -- REST writes --------------------------------------------------------------------------

    async def replace_text(
        self, session: AsyncSession, document_id: uuid.UUID, text: str, author_id: uuid.UUID | None
    ) -> str:
        """Merge a REST write into the Yjs document (see the interfaces brief); the new text."""
        loading = self._loading.get(document_id)
        if loading is not None:
            await asyncio.shield(loading)
        room = self.rooms.get(document_id)
        if room is not None:
            update = replace_in_text(room.doc, room.text, text)
            if update is not None:
                room.apply_update(update, None, author_id, integrated=True)
                room.changed = False  # the caller writes documents.content itself
                await repository.append_updates(
                    session, [LogRow(document_id, update, author_id, utcnow())]
                )
            return str(room.text)
        head = await repository.document_head(session, document_id)
        if head is None:
            raise NotFound("Document not found", code="not_found")
        doc: Doc = Doc()
        for stored in await _stored_state(session, document_id, head.content):
            doc.apply_update(stored)
        ytext = doc.get(TEXT_NAME, type=Text)
        update = replace_in_text(doc, ytext, text)
        if update is not None:
            await repository.append_updates(
                session, [LogRow(document_id, update, author_id, utcnow())]
            )
            # A room open in another process learns of it through the broker.
            await self.state.broker.publish(_channel(document_id), protocol.sync_update(update))
        return str(ytext)

    # -- access changes -----------------------------------------------------------------------

    def _members(self, workspace_id: uuid.UUID) -> list[Peer]:
        return [
            peer
            for room in self.rooms.values()
            if room.workspace_id == workspace_id
            for peer in room.peers
        ]

    def _on_membership_changed(self, event: MembershipChanged) -> None:
        self._note_admitting(lambda peer: peer.user_id in (None, event.user_id))
        for peer in self._members(event.workspace_id):
            if peer.user_id != event.user_id:
                continue
            if event.role is None:
                peer.request_close(CloseCode.FORBIDDEN, "no longer a member")
            else:
                peer.can_write = Role(event.role).at_least(Role.EDITOR)

    def _on_workspace_deleted(self, event: WorkspaceDeleted) -> None:
        self._note_admitting(lambda _peer: True)
        for peer in self._members(event.workspace_id):
            peer.request_close(CloseCode.NOT_FOUND, "workspace deleted")

    def _on_document_trashed(self, event: DocumentTrashed) -> None:
        self._note_admitting(lambda _peer: True)
        room = self.rooms.get(event.document_id)
        for peer in list(room.peers) if room else []:
            peer.request_close(CloseCode.NOT_FOUND, "document trashed")

    def _on_logins_revoked(self, event: LoginsRevoked) -> None:
        revoked = set(event.login_ids)
        self._note_admitting(lambda peer: peer.user_id in (None, event.user_id))
        for room in self.rooms.values():
            for peer in list(room.peers):
                if peer.user_id == event.user_id and peer.login_id in revoked:
                    peer.request_close(CloseCode.UNAUTHENTICATED, "login ended")


async def _stored_state(session: AsyncSession, document_id: uuid.UUID, content: str) -> list[bytes]:
    """Snapshot then log rows; a document without Yjs state is seeded from its content once,
    even when several processes race (insert-if-absent, then read back the winner)."""
    snapshot = await repository.snapshot_state(session, document_id)
    if snapshot is None:
        await repository.insert_snapshot_if_absent(session, document_id, seed_state(content))
        snapshot = await repository.snapshot_state(session, document_id)
        if snapshot is None:
            raise RuntimeError("seeded snapshot is missing")
    return [snapshot, *await repository.log_updates(session, document_id)]


def _channel(document_id: uuid.UUID) -> str:
    return f"yjs:{document_id}"
