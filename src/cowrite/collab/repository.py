"""SQL for the Yjs state of documents: the snapshot row, the update log, compaction, content."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from pycrdt import merge_updates
from sqlalchemy import delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from cowrite.kit.clock import utcnow
from cowrite.models import Document, YSnapshot, YUpdate


@dataclass(frozen=True, slots=True)
class DocumentHead:
    workspace_id: uuid.UUID
    content: str
    deleted: bool
    format: str = "markdown"


@dataclass(frozen=True, slots=True)
class LogRow:
    document_id: uuid.UUID
    data: bytes
    author_id: uuid.UUID | None
    created_at: datetime


async def document_head(session: AsyncSession, document_id: uuid.UUID) -> DocumentHead | None:
    row = (
        await session.execute(
            select(
                Document.workspace_id, Document.content, Document.deleted_at, Document.format
            ).where(Document.id == document_id)
        )
    ).one_or_none()
    if row is None:
        return None
    return DocumentHead(row.workspace_id, row.content, row.deleted_at is not None, row.format)


async def snapshot_state(session: AsyncSession, document_id: uuid.UUID) -> bytes | None:
    result = await session.execute(
        select(YSnapshot.state).where(YSnapshot.document_id == document_id)
    )
    return result.scalar_one_or_none()


async def insert_snapshot_if_absent(
    session: AsyncSession, document_id: uuid.UUID, state: bytes
) -> None:
    """Insert the first snapshot unless one exists (another process may have seeded it first)."""
    values = {
        "document_id": document_id,
        "state": state,
        "last_update_id": 0,
        "updated_at": utcnow(),
    }
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        pg = postgresql.insert(YSnapshot).values(**values).on_conflict_do_nothing()
        await session.execute(pg)
    else:
        lite = sqlite.insert(YSnapshot).values(**values).on_conflict_do_nothing()
        await session.execute(lite)


async def log_updates(session: AsyncSession, document_id: uuid.UUID) -> list[bytes]:
    """Every update not yet compacted, oldest first (ids may commit out of order: read them all)."""
    result = await session.execute(
        select(YUpdate.data).where(YUpdate.document_id == document_id).order_by(YUpdate.id)
    )
    return list(result.scalars())


async def log_position(
    session: AsyncSession, document_id: uuid.UUID
) -> tuple[int, list[int]] | None:
    """The snapshot's compaction mark and the ids of the rows in the log; None without a
    snapshot. Cheap enough to ask often: it reads no update data."""
    mark = (
        await session.execute(
            select(YSnapshot.last_update_id).where(YSnapshot.document_id == document_id)
        )
    ).scalar_one_or_none()
    if mark is None:
        return None
    ids = await session.execute(select(YUpdate.id).where(YUpdate.document_id == document_id))
    return int(mark), [int(row_id) for row_id in ids.scalars()]


async def log_rows(session: AsyncSession, ids: list[int]) -> list[tuple[int, bytes]]:
    """(id, update) of the given log rows that still exist (compaction may have taken some)."""
    found: list[tuple[int, bytes]] = []
    for start in range(0, len(ids), 500):
        result = await session.execute(
            select(YUpdate.id, YUpdate.data)
            .where(YUpdate.id.in_(ids[start : start + 500]))
            .order_by(YUpdate.id)
        )
        found.extend((int(row.id), bytes(row.data)) for row in result)
    return found


async def append_updates(session: AsyncSession | AsyncConnection, rows: list[LogRow]) -> None:
    if not rows:
        return
    await session.execute(
        insert(YUpdate),
        [
            {
                "document_id": row.document_id,
                "data": row.data,
                "author_id": row.author_id,
                "created_at": row.created_at,
            }
            for row in rows
        ],
    )


async def compact(session: AsyncSession, document_id: uuid.UUID) -> int:
    """Merge the snapshot and the log rows into a new snapshot and delete exactly those rows.

    The snapshot row is locked first (PostgreSQL; SQLite holds the write lock already), so two
    compactors take turns; rows committed meanwhile are neither merged nor deleted.
    """
    snapshot = (
        await session.execute(
            select(YSnapshot.state, YSnapshot.last_update_id)
            .where(YSnapshot.document_id == document_id)
            .with_for_update()
        )
    ).one_or_none()
    if snapshot is None:
        return 0
    rows = (
        await session.execute(
            select(YUpdate.id, YUpdate.data, YUpdate.created_at)
            .where(YUpdate.document_id == document_id)
            .order_by(YUpdate.id)
        )
    ).all()
    if not rows:
        return 0
    merged = merge_updates(snapshot.state, *(row.data for row in rows))
    ids = [row.id for row in rows]
    # Dated by the newest update it took in, so a reader can still tell that the log (now the
    # snapshot) is ahead of a saved content that has not caught up yet.
    newest = max(row.created_at for row in rows)
    changed = await session.execute(
        update(YSnapshot)
        .where(
            YSnapshot.document_id == document_id,
            YSnapshot.last_update_id == snapshot.last_update_id,
        )
        .values(state=merged, last_update_id=max(ids), updated_at=newest)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]  # CursorResult of an UPDATE
        raise RuntimeError("snapshot changed under compaction")
    for start in range(0, len(ids), 500):
        await session.execute(delete(YUpdate).where(YUpdate.id.in_(ids[start : start + 500])))
    return len(ids)


async def write_content(
    session: AsyncSession,
    document_id: uuid.UUID,
    text: str,
    author_id: uuid.UUID | None,
    read_at: datetime | None = None,
) -> Document | None:
    """Set the document's body to the live text, as a REST edit would, dated when the text was
    read (log rows after that are not in it); None if nothing changed."""
    document = await session.get(Document, document_id)
    if document is None or document.content == text:
        return None
    document.content = text
    document.version += 1
    document.updated_at = read_at or utcnow()
    if author_id is not None:
        document.updated_by = author_id
    return document
