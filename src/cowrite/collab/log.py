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
import base64
import contextlib
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from prometheus_client import Histogram
from pycrdt import merge_updates
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from cowrite.collab import repository
from cowrite.collab.repository import LogRow
from cowrite.db import unit_of_work, urgent_writes
from cowrite.documents.service import enqueue_updated
from cowrite.kit.clock import utcnow
from cowrite.kit.tasks import raise_if_cancelling
from cowrite.versions.service import record_version

log = logging.getLogger(__name__)

VERSION_SOURCE = "yjs"  # versions made from co-editing, folded per author like REST edits
# Told (document, workspace, author) once a debounced content write is committed.
ContentSaved = Callable[[uuid.UUID, uuid.UUID, uuid.UUID], None]
# A queued content write: the text, its author, when the text was read from the room.
_Content = tuple[str, uuid.UUID | None, datetime]


@dataclass(slots=True)
class _Accepted:
    document_id: uuid.UUID
    update: bytes
    author_id: uuid.UUID | None
    arrived: float
    # The row's `created_at`: a content saved from text read before it is behind the log.
    at: datetime


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
        save_within: float = 10.0,
        on_content_saved: ContentSaved | None = None,
    ) -> None:
        self.session_factory = session_factory
        self.on_content_saved = on_content_saved
        self.engine = engine
        # The log keeps one connection of its own: no pool checkout, ping or reset per flush,
        # just BEGIN, INSERT, COMMIT (each a loop turn that a busy room makes expensive).
        self._connection: AsyncConnection | None = None
        self.version_fold_seconds = version_fold_seconds
        self.flush_interval = flush_interval
        self.compact_threshold = compact_threshold
        self.commit_lag = commit_lag
        self.save_within = save_within
        self._updates: list[_Accepted] = []
        self._contents: dict[uuid.UUID, _Content] = {}
        self._rows: dict[uuid.UUID, int] = {}
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._last_flush = 0.0
        self._task: asyncio.Task[None] | None = None

    def append(self, document_id: uuid.UUID, update: bytes, author_id: uuid.UUID | None) -> None:
        self._updates.append(_Accepted(document_id, update, author_id, time.monotonic(), utcnow()))
        self._wake.set()

    def write_content(self, document_id: uuid.UUID, text: str, author_id: uuid.UUID | None) -> None:
        """Queue `documents.content = text` (the room's text now) for the next flush (the latest
        text wins). It is dated now, so updates accepted after it was read, though committed in
        the same flush, stay newer than the content and readers take them from the log."""
        self._contents[document_id] = (text, author_id, utcnow())
        self._wake.set()

    def note_rows(self, document_id: uuid.UUID, rows: int) -> None:
        """How many log rows a document had when it was loaded (for the compaction trigger)."""
        self._rows[document_id] = rows

    def forget(self, document_id: uuid.UUID) -> None:
        self._rows.pop(document_id, None)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="yjs-update-log")

    async def close(self) -> None:
        """Commit what is left; while the database is away keep trying for `save_within`
        seconds, then log exactly what could not be saved instead of exiting as if it were."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        deadline = time.monotonic() + self.save_within
        delay = self.flush_interval
        while True:
            try:
                await self.flush()
                break
            except Exception as exc:
                if time.monotonic() + delay > deadline:
                    self._report_unsaved(exc)
                    break
                log.warning("database unavailable at shutdown; retrying: %r", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)
        await self._drop_connection()

    def _report_unsaved(self, error: BaseException) -> None:
        """One error line per document with what was accepted but never committed."""
        documents = {accepted.document_id for accepted in self._updates} | self._contents.keys()
        for document_id in sorted(documents, key=str):
            updates = [a.update for a in self._updates if a.document_id == document_id]
            merged = merge_updates(*updates) if len(updates) > 1 else (updates or [b""])[0]
            content = self._contents.get(document_id)
            fields = {
                "document_id": str(document_id),
                "updates": len(updates),
                "update_bytes": sum(len(update) for update in updates),
                # The merged Yjs update, so an operator can apply it by hand later.
                "merged_update_b64": base64.b64encode(merged).decode() if updates else None,
                "content_chars": None if content is None else len(content[0]),
            }
            log.error(
                "NOT SAVED: Yjs updates of document %s were accepted but never committed: %r",
                document_id,
                error,
                extra={"fields": fields},
            )

    async def _drop_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.close()

    async def _append(self, rows: list[LogRow]) -> None:
        if self._connection is None:
            self._connection = await self.engine.connect()
        try:
            # Edits wait for this commit: it goes before queued REST writes (SQLite).
            with urgent_writes():
                async with self._connection.begin():
                    await repository.append_updates(self._connection, rows)
        except Exception:
            await self._drop_connection()
            raise

    async def _run(self) -> None:
        failures = 0
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
                raise_if_cancelling()
                # The database is away: keep everything in memory and retry with back-off,
                # logging the first failure and then only now and then.
                failures += 1
                if failures == 1 or failures % 50 == 0:
                    log.exception("flushing the Yjs update log failed (%d); retrying", failures)
                await asyncio.sleep(min(self.flush_interval * 2 ** min(failures, 10), 2.0))
                self._wake.set()
            else:
                if failures:
                    log.warning("the Yjs update log is saving again after %d failures", failures)
                failures = 0

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

    async def _write(self, rows: list[LogRow], contents: dict[uuid.UUID, _Content]) -> None:
        if rows:
            await self._append(rows)  # committed first: the content never runs ahead of it
        if not contents:
            return
        saved: list[tuple[uuid.UUID, uuid.UUID, uuid.UUID]] = []
        async with unit_of_work(self.session_factory) as session:
            for document_id, (text, author_id, read_at) in contents.items():
                document = await repository.write_content(
                    session, document_id, text, author_id, read_at
                )
                if document is not None:
                    await enqueue_updated(session, document, author_id)
                    await record_version(
                        session,
                        document,
                        author_id,
                        source=VERSION_SOURCE,
                        fold_seconds=self.version_fold_seconds,
                    )
                    if author_id is not None:
                        saved.append((document_id, document.workspace_id, author_id))
        if self.on_content_saved is not None:
            for document_id, workspace_id, author_id in saved:
                self.on_content_saved(document_id, workspace_id, author_id)

    async def _write_separately(
        self, rows: list[LogRow], contents: dict[uuid.UUID, _Content]
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
                merged = await repository.compact(session, document_id)
            # Rows a flush wrote while compaction ran were not merged: they still count.
            if document_id in self._rows:
                self._rows[document_id] = max(0, self._rows[document_id] - merged)


def _merge_rows(updates: list[_Accepted]) -> list[LogRow]:
    """One row per (document, author) in this batch."""
    groups: dict[tuple[uuid.UUID, uuid.UUID | None], list[_Accepted]] = {}
    for accepted in updates:
        groups.setdefault((accepted.document_id, accepted.author_id), []).append(accepted)
    rows = []
    for (document_id, author_id), group in groups.items():
        data = [accepted.update for accepted in group]
        merged = data[0] if len(data) == 1 else merge_updates(*data)
        rows.append(LogRow(document_id, merged, author_id, max(a.at for a in group)))
    return rows
