"""Co-editing for the whole process (`state.collab`): rooms loaded once and unloaded when idle,
the update log, content sync, REST writes merged into live text, and access changes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable

from pycrdt import Doc
from sqlalchemy.ext.asyncio import AsyncSession

from cowrite.collab import protocol, repository, sessions
from cowrite.collab.connection import SharePeer, SocketPeer
from cowrite.collab.formats import BodyFormat, RichBody, body_for, capture
from cowrite.collab.log import UpdateLog
from cowrite.collab.protocol import ProtocolError
from cowrite.collab.reads import ServedBodies
from cowrite.collab.repository import LogRow
from cowrite.collab.room import Peer, Room, RoomLimits
from cowrite.collab.warm import WarmDocument, WarmDocuments
from cowrite.db import after_commit, unit_of_work
from cowrite.documents.access import roles_on_document
from cowrite.kit.clock import utcnow
from cowrite.kit.errors import NotFound
from cowrite.kit.events import DocumentEdited
from cowrite.realtime.access import AccessChange
from cowrite.realtime.codes import CloseCode
from cowrite.richtext.schema import Json, Limits
from cowrite.state import AppState
from cowrite.workspaces.roles import Role

log = logging.getLogger(__name__)

# REST reads of a live body: one that took longer than this to render is rendered again at most
# this often while it is being edited (a large rich document takes tens of milliseconds).
SLOW_RENDER_SECONDS = 0.005
RENDER_PAUSE_SECONDS = 0.05


class CollabService:
    def __init__(self, state: AppState) -> None:
        self.state = state
        settings = state.settings
        self.tick_seconds = settings.yjs_tick_ms / 1000
        self.grace_seconds = settings.yjs_room_grace_seconds
        self.content_sync_seconds = settings.yjs_content_sync_seconds
        self.rich_limits = Limits(settings.rich_max_depth, settings.rich_max_nodes)
        self.warm = WarmDocuments(settings.rich_warm_documents)
        self.reads = ServedBodies()
        self.log = UpdateLog(
            state.session_factory,
            state.engine,
            flush_interval=settings.yjs_flush_interval_ms / 1000,
            compact_threshold=settings.yjs_compact_threshold,
            commit_lag=state.metrics.yjs_commit_lag,
            version_fold_seconds=settings.version_fold_seconds,
            save_within=settings.shutdown_save_seconds,
            on_content_saved=self._content_saved,
        )
        self.rooms: dict[uuid.UUID, Room] = {}
        self._loading: dict[uuid.UUID, asyncio.Future[Room]] = {}
        self._unload_timers: dict[uuid.UUID, asyncio.TimerHandle] = {}
        self._content_timers: dict[uuid.UUID, asyncio.TimerHandle] = {}
        self._remote_handlers: dict[uuid.UUID, Callable[[bytes], None]] = {}
        # The last body read over REST per open room: (room, its revision then, the text, when
        # it was rendered, how long that took).
        self._markdown_memo: dict[uuid.UUID, tuple[Room, int, str, float, float]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._touching: asyncio.Task[None] | None = None
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
        self.state.access.listen(self._on_access_changed)

    async def going_away(self, within: float) -> None:
        """The process is stopping: send out what every room holds, then close every socket
        with 1001 so its client reconnects (elsewhere) at once; waits up to `within` seconds
        for the close frames to leave."""
        peers = []
        for room in list(self.rooms.values()):
            room.flush()
            for peer in list(room.peers):
                peer.request_close(1001, "server shutting down")
                if isinstance(peer, SocketPeer):
                    peers.append(peer.wait_finished())
        if peers:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.gather(*peers, return_exceptions=True), within)

    async def close(self) -> None:
        if self._touching is not None:
            self._touching.cancel()
        self.state.access.unlisten(self._on_access_changed)
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
            if not self.rooms:
                continue
            try:
                # One statement for the whole process, however many sockets are open.
                await sessions.touch_yjs_sessions(self.state)
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
            body = body_for(head.format, self.rich_limits)
            stored = await _stored_state(session, document_id, head.content, body)
        room = Room(
            document_id,
            head.workspace_id,
            self,
            tick_seconds=self.tick_seconds,
            body=body,
            limits=self.limits,
        )
        room.load(stored)
        self.log.note_rows(document_id, len(stored) - 1)
        return room

    def live_room(self, document_id: uuid.UUID) -> Room | None:
        return self.rooms.get(document_id)

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
        self._markdown_memo.pop(room.document_id, None)
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

    def _content_saved(
        self, document_id: uuid.UUID, workspace_id: uuid.UUID, author_id: uuid.UUID
    ) -> None:
        # After the commit, off the log's own task: listeners (notifications) only queue work.
        self._spawn(self.state.events.emit(DocumentEdited(document_id, workspace_id, author_id)))

    def _sync_content(self, room: Room) -> None:
        timer = self._content_timers.pop(room.document_id, None)
        if timer is not None:
            timer.cancel()
        if room.changed:
            room.changed = False
            self.log.write_content(room.document_id, room.markdown(), room.last_author)

    def _remote_handler(self, room: Room) -> Callable[[bytes], None]:
        def handle(frame: bytes) -> None:
            try:
                room.apply_remote(frame)
            except ProtocolError:
                log.warning("ignoring a malformed Yjs frame from the broker")

        return handle

    # -- REST writes --------------------------------------------------------------------------

    async def replace_text(
        self,
        session: AsyncSession,
        document_id: uuid.UUID,
        text: str,
        author_id: uuid.UUID | None,
        base: str | None = None,
    ) -> str:
        """Merge a REST write (Markdown) into the live body; the new content. `base` is the saved
        content: the write then merges against whichever of it, the bodies handed to readers
        and the live body its writer most likely read (`reads`), so only what the writer
        changed is changed. Without a base the body becomes `text` (a restore)."""

        reads = [] if base is None else [*self.reads.bodies(document_id), base]
        return await self._edit(
            session,
            document_id,
            author_id,
            lambda body, doc: body.write_markdown(doc, text, reads=reads),
        )

    def note_read(self, document_id: uuid.UUID, text: str) -> None:
        """A REST reader was handed `text` (a base for its next write)."""
        self.reads.note(document_id, text)

    async def replace_rich(
        self,
        session: AsyncSession,
        document_id: uuid.UUID,
        document: Json,
        author_id: uuid.UUID | None,
    ) -> str:
        """Merge checked ProseMirror JSON into a rich document's fragment; the new content."""

        def write(body: BodyFormat, doc: Doc) -> None:
            assert isinstance(body, RichBody)
            body.write_json(doc, document)

        return await self._edit(session, document_id, author_id, write)

    async def rich_json(self, session: AsyncSession, document_id: uuid.UUID) -> Json:
        """A rich document's body as ProseMirror JSON (live, or from its stored state)."""
        room = await self._live_room(document_id)
        if room is not None:
            body, doc = room.body, room.doc
        else:
            warm = await self._read_stored(session, document_id)
            body, doc = warm.body, warm.doc
        if not isinstance(body, RichBody):
            raise NotFound("Not a rich-text document", code="not_rich")
        return body.json(doc)

    def live_markdown(self, document_id: uuid.UUID) -> str | None:
        """The body of a room open in this process, as `documents.content` will hold it once
        saved (it is saved after a pause); None when the room is not open here."""
        room = self.rooms.get(document_id)
        if room is None:
            return None
        memo = self._markdown_memo.get(document_id)
        now = time.monotonic()
        if memo is not None and memo[0] is room:
            if memo[1] == room.revision:
                return memo[2]
            # A body that is slow to render (a large rich document) is rendered again at most
            # every RENDER_PAUSE_SECONDS, however often it is read while being edited.
            if memo[4] > SLOW_RENDER_SECONDS and now - memo[3] < RENDER_PAUSE_SECONDS:
                return memo[2]
        text = room.markdown()
        took = time.monotonic() - now
        self._markdown_memo[document_id] = (room, room.revision, text, now, took)
        return text

    async def stored_markdown(self, session: AsyncSession, document_id: uuid.UUID) -> str:
        """The body as the durable state (snapshot and update log) holds it, built in memory
        (a rich document kept loaded reads only what was stored since, and its changed blocks)."""
        warm = await self._read_stored(session, document_id)
        return warm.body.markdown(warm.doc)

    async def _read_stored(self, session: AsyncSession, document_id: uuid.UUID) -> WarmDocument:
        """The stored body for a read, which changes nothing: kept loaded again at once."""
        warm = await self._warm_document(session, document_id, seed=False)
        if warm.mark >= 0:  # built from a snapshot, not from the content in memory
            self.warm.keep(document_id, warm)
        return warm

    async def _warm_document(
        self, session: AsyncSession, document_id: uuid.UUID, *, seed: bool = True
    ) -> WarmDocument:
        """The stored body, from the kept one caught up when there is one (taken out: whoever
        changes it keeps it again only once that is committed)."""
        warm = self.warm.take(document_id)
        if warm is not None and await self.warm.catch_up(session, document_id, warm):
            return warm
        position = await repository.log_position(session, document_id)
        warm = WarmDocument(*await self._stored_doc(session, document_id, seed=seed))
        if position is not None:
            warm.mark, warm.seen = position[0], set(position[1])
        return warm

    async def _live_room(self, document_id: uuid.UUID) -> Room | None:
        loading = self._loading.get(document_id)
        if loading is not None:
            await asyncio.shield(loading)
        return self.rooms.get(document_id)

    async def _stored_doc(
        self, session: AsyncSession, document_id: uuid.UUID, *, seed: bool = True
    ) -> tuple[BodyFormat, Doc]:
        """The stored body; without `seed` (reads) a document that has no Yjs state yet is
        built from its content in memory, and nothing is written."""
        head = await repository.document_head(session, document_id)
        if head is None:
            raise NotFound("Document not found", code="not_found")
        body = body_for(head.format, self.rich_limits)
        doc: Doc = Doc()
        if seed:
            stored = await _stored_state(session, document_id, head.content, body)
        elif await repository.snapshot_state(session, document_id) is None:
            stored = [body.seed(head.content)]
        else:
            stored = await _stored_state(session, document_id, head.content, body)
        for update in stored:
            doc.apply_update(update)
        body.watch(doc)  # what a write reads is not read again for its answer
        return body, doc

    async def _edit(
        self,
        session: AsyncSession,
        document_id: uuid.UUID,
        author_id: uuid.UUID | None,
        edit: Callable[[BodyFormat, Doc], None],
    ) -> str:
        """Make a REST write an edit of the live body (see the interfaces brief): in the open
        room, or on the stored state (a room in another process hears it through the broker)."""
        room = await self._live_room(document_id)
        if room is not None:
            update = capture(room.doc, lambda: edit(room.body, room.doc))
            if update is not None:
                room.apply_update(update, None, author_id, integrated=True)
                room.changed = False  # the caller writes documents.content itself
                await repository.append_updates(
                    session, [LogRow(document_id, update, author_id, utcnow())]
                )
            return self._answer(session, document_id, room.markdown())
        warm = await self._warm_document(session, document_id)
        body, doc = warm.body, warm.doc
        update = capture(doc, lambda: edit(body, doc))
        if update is not None:
            await repository.append_updates(
                session, [LogRow(document_id, update, author_id, utcnow())]
            )
            await self.state.broker.publish(_channel(document_id), protocol.sync_update(update))
        self.warm.keep_after_commit(session, document_id, warm)
        return self._answer(session, document_id, body.markdown(doc))

    def _answer(self, session: AsyncSession, document_id: uuid.UUID, text: str) -> str:
        """A write's answer, a body its writer read too (noted once committed)."""
        after_commit(session, lambda: self.reads.note(document_id, text))
        return text

    # -- access changes -----------------------------------------------------------------------

    async def _on_access_changed(self, change: AccessChange) -> None:
        """Close the peers that lost the document; the others keep (or lose) write access."""
        if change.document_id is not None:
            rooms = [self.rooms[change.document_id]] if change.document_id in self.rooms else []
        else:
            rooms = [
                r for r in self.rooms.values() if change.workspace_id in (None, r.workspace_id)
            ]
        code = change.close_code
        room_of = {peer: room.document_id for room in rooms for peer in room.peers}
        rereads: dict[uuid.UUID, list[Peer]] = {}
        for peer in list(room_of):
            share_id = peer.share_id if isinstance(peer, SharePeer) else None
            if not change.concerns(peer.user_id, peer.login_id, share_id):
                continue
            if code is not None:
                peer.request_close(code, change.loss.replace("_", " "))
                continue
            if change.role is not None and not change.role.at_least(Role.EDITOR):
                peer.can_write = False  # at once; the read below settles the document role
            if change.rereads and peer.user_id is not None:
                rereads.setdefault(room_of[peer], []).append(peer)
        for document_id, peers in rereads.items():
            await self._reread_roles(document_id, peers)

    async def _reread_roles(self, document_id: uuid.UUID, peers: list[Peer]) -> None:
        """Read each peer's role on the document again: who lost it is closed, the others
        write or not by it (a restricted document's own list may decide)."""
        async with unit_of_work(self.state.reader_factory) as session:
            roles = await roles_on_document(
                session, document_id, {peer.user_id for peer in peers if peer.user_id}
            )
        for peer in peers:
            role = roles.get(peer.user_id) if peer.user_id else None
            if role is None:
                peer.request_close(CloseCode.FORBIDDEN, "no longer has access")
            else:
                peer.can_write = role.at_least(Role.EDITOR)


async def _stored_state(
    session: AsyncSession, document_id: uuid.UUID, content: str, body: BodyFormat
) -> list[bytes]:
    """Snapshot then log rows; a document without Yjs state is seeded from its content once,
    even when several processes race (insert-if-absent, then read back the winner)."""
    snapshot = await repository.snapshot_state(session, document_id)
    if snapshot is None:
        await repository.insert_snapshot_if_absent(session, document_id, body.seed(content))
        snapshot = await repository.snapshot_state(session, document_id)
        if snapshot is None:
            raise RuntimeError("seeded snapshot is missing")
    return [snapshot, *await repository.log_updates(session, document_id)]


async def stored_state(
    session: AsyncSession, document_id: uuid.UUID, content: str, format_name: str
) -> list[bytes]:
    """The document's durable Yjs state for other features (comment anchors), seeded once in
    the document's own format."""
    return await _stored_state(session, document_id, content, body_for(format_name, Limits()))


def _channel(document_id: uuid.UUID) -> str:
    return f"yjs:{document_id}"
