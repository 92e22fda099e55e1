"""The durable Yjs state of a document: a compacted snapshot plus the update log after it."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, LargeBinary
from sqlalchemy.orm import Mapped, mapped_column

from cowrite.kit.clock import utcnow
from cowrite.models.base import Base, BigIntKey


class YUpdate(Base):
    __tablename__ = "yjs_updates"
    __table_args__ = (Index("ix_yjs_updates_document_id_id", "document_id", "id"),)

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    author_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class YSnapshot(Base):
    """Every update with id <= `last_update_id` is merged into `state`."""

    __tablename__ = "yjs_snapshots"

    document_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True
    )
    state: Mapped[bytes] = mapped_column(LargeBinary)
    last_update_id: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
