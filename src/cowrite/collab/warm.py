"""Documents read or written over REST while no room is open in this process: the last few stay
loaded, with the blocks their body already read, so the next read or write reads only the log rows
added since and the blocks that changed (reading a 100 KB tree through pycrdt costs tens of
milliseconds).

A kept document is caught up from the stored state before each use: the log rows it has not
seen, and the snapshot again when compaction moved it (applying what a document already has
changes nothing, so the blocks read stay valid). A write edits the kept document itself, so it
is taken out for the write and kept again only once the write's transaction commits: a write
that rolls back leaves nothing behind."""

from __future__ import annotations

import uuid
from collections import OrderedDict
from dataclasses import dataclass, field

from pycrdt import Doc
from sqlalchemy.ext.asyncio import AsyncSession

from cowrite.collab import repository
from cowrite.collab.formats import BodyFormat
from cowrite.db import after_commit


@dataclass(slots=True)
class WarmDocument:
    body: BodyFormat
    doc: Doc
    mark: int = -1  # the snapshot's compaction mark when last caught up
    seen: set[int] = field(default_factory=set)  # log rows applied


class WarmDocuments:
    def __init__(self, size: int) -> None:
        self.size = size
        self._kept: OrderedDict[uuid.UUID, WarmDocument] = OrderedDict()

    def take(self, document_id: uuid.UUID) -> WarmDocument | None:
        return self._kept.pop(document_id, None)

    async def catch_up(
        self, session: AsyncSession, document_id: uuid.UUID, warm: WarmDocument
    ) -> bool:
        """Apply what was stored since `warm` last read; False when the stored state is gone."""
        position = await repository.log_position(session, document_id)
        if position is None:
            return False
        mark, ids = position
        if mark != warm.mark:
            snapshot = await repository.snapshot_state(session, document_id)
            if snapshot is None:
                return False
            warm.doc.apply_update(snapshot)
        fresh = [row_id for row_id in ids if row_id not in warm.seen]
        for _, update in await repository.log_rows(session, fresh):
            warm.doc.apply_update(update)
        warm.mark, warm.seen = mark, set(ids)
        return True

    def keep_after_commit(
        self, session: AsyncSession, document_id: uuid.UUID, warm: WarmDocument
    ) -> None:
        after_commit(session, lambda: self.keep(document_id, warm))

    def keep(self, document_id: uuid.UUID, warm: WarmDocument) -> None:
        if self.size <= 0:
            return
        self._kept[document_id] = warm
        self._kept.move_to_end(document_id)
        while len(self._kept) > self.size:
            self._kept.popitem(last=False)

    def forget(self, document_id: uuid.UUID) -> None:
        self._kept.pop(document_id, None)
