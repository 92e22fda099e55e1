"""The durable update log with group commit.

Rooms append accepted updates without waiting; one task per process writes them in batches, at
most one transaction per flush interval (sooner when idle), so an update is committed a few
milliseconds after it arrives and a burst costs one transaction, not one per keystroke. Updates
from the same author to the same document within a batch are merged into one row. The debounced
`documents.content` writes (with a version, as REST edits make) follow in their own transaction
once the updates are committed, so the content never runs ahead of the log. Documents whose
log grows past the threshold are compacted after the flush.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from dataclasses import dataclass

from prometheus_client import Histogram
from pycrdt import merge_updates
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from cowrite.collab import repository
from cowrite.collab.repository import LogRow
from cowrite.db import unit_of_work
from cowrite.kit.clock import utcnow
from cowrite.versions.service import record_version

log = logging.getLogger(__name__)

VERSION_SOURCE = "yjs"  # versions made from co-editing, folded per author like REST edits


@dataclass(slots=True)
class _Accepted:
    document_id: uuid.UUID
    update: bytes
    author_id: uuid.UUID | None
    arrived: float


class UpdateLog:
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        engine: AsyncEngine,
        *,
        flush_interval: float,
        compact_threshold: int,
        commit_lag: Histogram,
        version_fold_seconds: int,
    ) -> None:
        self.session_factory = session_factory
        self.engine = engine
        # The log keeps one connection of its own: no pool checkout, ping or reset per flush,
        # just BEGIN, INSERT, COMMIT (each a loop turn that a busy room makes expensive).
        self._connection: AsyncConnection | None = None
        self.version_fold_seconds = version_fold_seconds
        self.flush_interval = flush_interval
        self.compact_threshold = compact_threshold
        self.commit_lag = commit_lag
        self._updates: list[_Accepted] = []
        self._contents: dict[uuid.UUID, tuple[str, uuid.UUID | None]] = {}
        self._rows: dict[uuid.UUID, int] = {}
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._last_flush = 0.0
        self._task: asyncio.Task[None] | None = None

    def append(self, document_id: uuid.UUID, update: bytes, author_id: uuid.UUID | None) -> None:
        self._updates.append(_Accepted(document_id, update, author_id, time.monotonic()))
        self._wake.set()

    def write_content(self, document_id: uuid.UUID, text: str, author_id: uuid.UUID | None) -> None:
        """Queue `documents.content = text` for the next flush (the latest text wins)."""
        self._contents[document_id] = (text, author_id)
        self._wake.set()

    def note_rows(self, document_id: uuid.UUID, rows: int) -> None:
        """How many log rows a document had when it was loaded (for the compaction trigger)."""
        self._rows[document_id] = rows

    def forget(self, document_id: uuid.UUID) -> None:
        self._rows.pop(document_id, None)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="yjs-update-log")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await self.flush()
        await self._drop_connection()

    async def _drop_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.close()

    async def _append(self, rows: list[LogRow]) -> None:
        if self._connection is None:
            self._connection = await self.engine.connect()
        try:
            async with self._connection.begin():
                await repository.append_updates(self._connection, rows)
        except Exception:
            await self._drop_connection()
            raise

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            delay = self._last_flush + self.flush_interval - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            try:
                await self.flush()
                await self._compact_due()
            except Exception:
                log.exception("flushing the Yjs update log failed; retrying")
                await asyncio.sleep(self.flush_interval)
                self._wake.set()

    async def flush(self) -> None:
        """Commit everything appended so far (waits for a flush already under way)."""
        async with self._lock:
            self._last_flush = time.monotonic()
            updates, self._updates = self._updates, []
            contents, self._contents = self._contents, {}
            if not updates and not contents:
                return
            rows = _merge_rows(updates)
            try:
                await self._write(rows, contents)
            except IntegrityError:
                # A document purged meanwhile fails the batch: write the others one by one.
                await self._write_separately(rows, contents)
            except Exception:
                self._updates[:0] = updates
                for document_id, value in contents.items():
                    self._contents.setdefault(document_id, value)
                raise
            committed = time.monotonic()
            for accepted in updates:
                self.commit_lag.observe(committed - accepted.arrived)
            for row in rows:
                self._rows[row.document_id] = self._rows.get(row.document_id, 0) + 1

    async def _write(
        self, rows: list[LogRow], contents: dict[uuid.UUID, tuple[str, uuid.UUID | None]]
    ) -> None:
        if rows:
            await self._append(rows)  # committed first: the content never runs ahead of it
        if not contents:
            return
        async with unit_of_work(self.session_factory) as session:
            for document_id, (text, author_id) in contents.items():
                document = await repository.write_content(session, document_id, text, author_id)
                if document is not None:
                    await record_version(
                        session,
                        document,
                        author_id,
                        source=VERSION_SOURCE,
                        fold_seconds=self.version_fold_seconds,
                    )

    async def _write_separately(
        self, rows: list[LogRow], contents: dict[uuid.UUID, tuple[str, uuid.UUID | None]]
    ) -> None:
        for document_id in {row.document_id for row in rows} | contents.keys():
            own = [row for row in rows if row.document_id == document_id]
            own_content = {k: v for k, v in contents.items() if k == document_id}
            try:
                await self._write(own, own_content)
            except IntegrityError:
                log.warning("dropping Yjs updates of a document that no longer exists")

    async def _compact_due(self) -> None:
        due = [doc for doc, rows in self._rows.items() if rows > self.compact_threshold]
        for document_id in due:
            async with unit_of_work(self.session_factory) as session:
                await repository.compact(session, document_id)
            if document_id in self._rows:
                self._rows[document_id] = 0


def _merge_rows(updates: list[_Accepted]) -> list[LogRow]:
    """One row per (document, author) in this batch."""
    groups: dict[tuple[uuid.UUID, uuid.UUID | None], list[bytes]] = {}
    for accepted in updates:
        groups.setdefault((accepted.document_id, accepted.author_id), []).append(accepted.update)
    now = utcnow()
    return [
        LogRow(document_id, data[0] if len(data) == 1 else merge_updates(*data), author_id, now)
        for (document_id, author_id), data in groups.items()
    ]
