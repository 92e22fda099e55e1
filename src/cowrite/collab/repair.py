"""Repair of live rooms across processes: the database log is the truth, pub/sub only a shortcut.

A room hears other processes' updates through the broker, which may lose some (Redis pub/sub
drops whatever is published while a subscriber reconnects; a test hook drops a share on
purpose). Periodically, on every broker reconnect and soon after a room opens, each open room is
compared with its stored state (snapshot + log):
- what the database has and the room lacks is applied to the room and sent to its local peers;
- what the room has and the database still lacks one pass later (its accepting process died
  before its commit) is appended to the log here: a Yjs update applied twice is harmless.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING

from pycrdt import Doc, Text, merge_updates

from cowrite.collab import protocol, repository
from cowrite.collab.room import TEXT_NAME, Room
from cowrite.db import unit_of_work

if TYPE_CHECKING:
    from cowrite.collab.service import CollabService

log = logging.getLogger(__name__)


def _read_varuint(data: bytes, position: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, position
        shift += 7


def decode_state_vector(vector: bytes) -> dict[int, int]:
    """client id → clock, from Yjs' state vector encoding (the order of pairs is arbitrary)."""
    count, position = _read_varuint(vector, 0)
    clocks: dict[int, int] = {}
    for _ in range(count):
        client, position = _read_varuint(vector, position)
        clocks[client], position = _read_varuint(vector, position)
    return clocks


def _covers(have: dict[int, int], other: dict[int, int]) -> bool:
    return all(have.get(client, 0) >= clock for client, clock in other.items())


def adds_anything(doc: Doc, text: Text, update: bytes) -> bool:
    """Whether applying `update` would change `doc` (new items, or deletions that show)."""
    probe: Doc = Doc()
    probe.apply_update(doc.get_update())
    probe_text = probe.get(TEXT_NAME, type=Text)
    before = decode_state_vector(probe.get_state())
    probe.apply_update(update)
    return not _covers(before, decode_state_vector(probe.get_state())) or str(probe_text) != str(
        text
    )


class RoomRepair:
    def __init__(self, service: CollabService, interval: float) -> None:
        self.service = service
        self.interval = interval
        # Per room, what the database lacked at the last pass (written back if it still does).
        self._lacking: dict[uuid.UUID, bytes] = {}
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._failing = False
        self.repaired = 0  # updates applied to rooms from the database (observability, tests)
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
                log.exception("repairing Yjs rooms failed; trying again next interval")

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
        for document_id in [key for key in self._lacking if key not in self.service.rooms]:
            del self._lacking[document_id]

    async def repair(self, room: Room) -> None:
        async with self._lock:
            async with unit_of_work(self.service.state.session_factory) as session:
                snapshot = await repository.snapshot_state(session, room.document_id)
                rows = await repository.log_updates(session, room.document_id)
            if snapshot is None:
                return
            stored: Doc = Doc()
            stored.apply_update(merge_updates(snapshot, *rows) if rows else snapshot)
            stored_text = stored.get(TEXT_NAME, type=Text)
            if self.service.rooms.get(room.document_id) is not room:
                return  # unloaded meanwhile
            self._heal_room(room, stored)
            self._write_back(room, stored, stored_text)

    def _heal_room(self, room: Room, stored: Doc) -> None:
        missing = stored.get_update(room.doc.get_state())
        if adds_anything(room.doc, room.text, missing):
            room.apply_remote(protocol.sync_update(missing))
            self.repaired += 1

    def _write_back(self, room: Room, stored: Doc, stored_text: Text) -> None:
        document_id = room.document_id
        previous = self._lacking.pop(document_id, None)
        if previous is not None and adds_anything(stored, stored_text, previous):
            # Lacking for a whole interval: whoever accepted it will not write it.
            self.service.log.append(document_id, previous, None)
            self.written_back += 1
            log.warning("persisted Yjs updates of %s that no process had saved", document_id)
            return
        lacking = room.doc.get_update(stored.get_state())
        if adds_anything(stored, stored_text, lacking):
            self._lacking[document_id] = lacking


async def start_repair(service: CollabService, stack: AsyncExitStack) -> RoomRepair | None:
    """Repair rooms when other processes share them (a Redis broker); one process needs none."""
    if not service.state.settings.redis_url:
        return None
    repair = RoomRepair(service, service.state.settings.yjs_repair_interval_seconds)
    await repair.start(stack)
    return repair
