"""The file collector: blobs no row refers to, rows whose blob is gone, abandoned temp files."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cowrite.db import unit_of_work
from cowrite.files import repository
from cowrite.jobs import repository as jobs_repository
from cowrite.kit.clock import utcnow
from cowrite.storage import BlobStore

log = logging.getLogger(__name__)

BATCH = 500
# A blob is written before its row commits; younger blobs may still be on their way to a row.
DEFAULT_GRACE = timedelta(hours=1)


@dataclass
class GcReport:
    orphan_blobs: list[str] = field(default_factory=list)
    rows_without_blob: list[uuid.UUID] = field(default_factory=list)
    incomplete_removed: int = 0
    applied: bool = True


async def _orphan_blobs(
    factory: async_sessionmaker[AsyncSession], store: BlobStore, grace: timedelta
) -> list[str]:
    cutoff = utcnow() - grace
    orphans: list[str] = []
    batch: list[str] = []

    async def check(keys: list[str]) -> None:
        async with unit_of_work(factory) as session:
            # A job's upload and its result are blobs too, held by the job's row.
            known = await repository.known_keys(session, keys)
            known |= await jobs_repository.blob_keys(session, keys)
        for key in keys:
            if key in known:
                continue
            found = await store.stat(key)
            if found is not None and found.modified_at < cutoff:
                orphans.append(key)

    async for key in store.list_keys():
        batch.append(key)
        if len(batch) >= BATCH:
            await check(batch)
            batch = []
    await check(batch)
    return orphans


async def _rows_without_blob(
    factory: async_sessionmaker[AsyncSession], store: BlobStore
) -> list[uuid.UUID]:
    missing: list[uuid.UUID] = []
    after: uuid.UUID | None = None
    while True:
        # One short transaction per batch; the blob checks happen outside it.
        async with unit_of_work(factory) as session:
            rows = await repository.storage_keys_after(session, after, BATCH)
        if not rows:
            return missing
        for file_id, key in rows:
            if await store.stat(key) is None:
                missing.append(file_id)
        after = rows[-1][0]


async def collect_garbage(
    factory: async_sessionmaker[AsyncSession],
    store: BlobStore,
    *,
    grace: timedelta = DEFAULT_GRACE,
    prune_rows: bool = False,
    dry_run: bool = False,
) -> GcReport:
    """Find both kinds of inconsistency; unless `dry_run`, delete orphan blobs and abandoned
    temp files, and (with `prune_rows`) the rows whose bytes are lost."""
    report = GcReport(applied=not dry_run)
    report.orphan_blobs = await _orphan_blobs(factory, store, grace)
    report.rows_without_blob = await _rows_without_blob(factory, store)
    if dry_run:
        return report
    for key in report.orphan_blobs:
        await store.delete(key)
    if prune_rows and report.rows_without_blob:
        async with unit_of_work(factory) as session:
            await repository.delete_files(session, report.rows_without_blob)
    report.incomplete_removed = await store.discard_incomplete(grace)
    for file_id in report.rows_without_blob:
        log.warning("file %s has no blob", file_id)
    return report
