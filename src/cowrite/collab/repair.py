"""Repair of live rooms across processes: the database log is the truth, pub/sub only a shortcut.

A room hears other processes' updates through the broker, which may lose some (Redis pub/sub
drops whatever is published while a subscriber reconnects; a test hook drops a share on
purpose). Periodically, on every broker reconnect and soon after a room opens, each open room is
compared with its stored state (snapshot + log):
- what the database has and the room lacks is applied to the room and sent to its local peers;
- what the room heard from another process and the database still lacks an interval later (its
  accepting process died before its commit) is appended to the log here: a Yjs update applied
  twice is harmless.

Each room's stored state is mirrored here and kept current incrementally: a pass reads the log's
row ids, fetches only rows it has not seen (and the snapshot only after a compaction), and works
on those. A pass costs what changed since the last one, not the size of the document, so many
busy rooms never stall the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pycrdt import Doc, merge_updates

from cowrite.collab import repository
from cowrite.collab.room import Room, apply_and_capture
from cowrite.db import unit_of_work
from cowrite.kit.tasks import raise_if_cancelling

if TYPE_CHECKING:
    from cowrite.collab.service import CollabService

log = logging.getLogger(__name__)


@dataclass(slots=True)
class StoredMirror:
    """What the database holds for one room, as far as this process has read it."""

    doc: Doc = field(default_factory=Doc)
    mark: int = -1  # the snapshot's compaction mark when it was last read
    seen: set[int] = field(default_factory=set)  # log rows applied to `doc`
    # Updates heard from other processes, with when they were taken from the room: checked
    # against the database once they are an interval old.
    heard: list[tuple[float, list[bytes]]] = field(default_factory=list)


def merged(updates: list[bytes]) -> bytes:
    return updates[0] if len(updates) == 1 else merge_updates(*updates)


class RoomRepair:
    def __init__(self, service: CollabService, interval: float) -> None:
        self.service = service
        self.interval = interval
        self._mirrors: dict[uuid.UUID, StoredMirror] = {}
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._failing = False
        self.repaired = 0  # passes that applied stored updates to a room (observability, tests)
        self.written_back = 0  # updates this process persisted for a process that did not

    async def start(self, stack: AsyncExitStack) -> None:
        self._task = asyncio.create_task(self._run(), name="yjs-repair")
        broker = self.service.state.broker
        broker.add_reconnect_hook(self.repair_all)
        stack.push_async_callback(self.close)

    async def close(self) -> None:
        self.service.state.broker.remove_reconnect_hook(self.repair_all)
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        seen: set[uuid.UUID] = set()
        tick = min(self.interval, 0.25)
        elapsed = 0.0
        while True:
            await asyncio.sleep(tick)
            elapsed += tick
            try:
                if elapsed >= self.interval:
                    elapsed = 0.0
                    await self.repair_all()
                    seen = set(self.service.rooms)
                else:
                    # A room opened since the last look: close the gap between its load and
                    # its subscription without waiting for the full interval.
                    fresh = [room for key, room in self.service.rooms.items() if key not in seen]
                    for room in fresh:
                        seen.add(room.document_id)
                        await self.repair(room)
            except Exception:
                raise_if_cancelling()
                log.exception("repairing Yjs rooms failed; trying again next interval")
            raise_if_cancelling()  # also when a call inside swallowed the cancellation

    async def repair_all(self) -> None:
        failed = 0
        for room in list(self.service.rooms.values()):
            try:
                await self.repair(room)
            except Exception:
                failed += 1
                if not self._failing:  # the database is likely away: say it once
                    log.exception("repairing room %s failed", room.document_id)
        if failed and not self._failing:
            log.warning("Yjs repair is failing; retrying every %.1f s", self.interval)
        self._failing = failed > 0
        for document_id in [key for key in self._mirrors if key not in self.service.rooms]:
            del self._mirrors[document_id]

    async def repair(self, room: Room) -> None:
        async with self._lock:
            document_id = room.document_id
            mirror = self._mirrors.get(document_id)
            async with unit_of_work(self.service.state.session_factory) as session:
                position = await repository.log_position(session, document_id)
                if position is None:
                    return
                mark, ids = position
                snapshot = None
                if mirror is None or mark != mirror.mark:
                    snapshot = await repository.snapshot_state(session, document_id)
                known = mirror.seen if mirror is not None else set()
                rows = await repository.log_rows(session, [i for i in ids if i not in known])
            if self.service.rooms.get(document_id) is not room:
                return  # unloaded meanwhile
            if mirror is None:
                mirror = self._mirrors.setdefault(document_id, StoredMirror())
            present = set(ids)
            mirror.seen = {i for i in mirror.seen if i in present} | {i for i, _ in rows}
            fresh = [data for _, data in rows]
            if snapshot is not None:
                mirror.mark = mark
                fresh.insert(0, snapshot)
            if fresh:
                update = merged(fresh)
                mirror.doc.apply_update(update)
                if room.heal(update):
                    self.repaired += 1
            self._write_back(room, mirror)

    def _write_back(self, room: Room, mirror: StoredMirror) -> None:
        """Persist what the room heard an interval ago and the database still lacks."""
        now = time.monotonic()
        heard = room.take_heard()
        if heard:
            mirror.heard.append((now, heard))
        due = [batch for taken, batch in mirror.heard if now - taken >= self.interval]
        if not due:
            return
        mirror.heard = [item for item in mirror.heard if now - item[0] < self.interval]
        lacking = apply_and_capture(mirror.doc, merged([u for batch in due for u in batch]))
        if lacking is not None:
            # Lacking for a whole interval: whoever accepted it will not write it.
            self.service.log.append(room.document_id, lacking, None)
            self.written_back += 1
            log.warning("persisted Yjs updates of %s that no process had saved", room.document_id)


async def start_repair(service: CollabService, stack: AsyncExitStack) -> RoomRepair | None:
    """Repair rooms when other processes share them (a Redis broker); one process needs none."""
    if not service.state.settings.redis_url:
        return None
    repair = RoomRepair(service, service.state.settings.yjs_repair_interval_seconds)
    await repair.start(stack)
    return repair
