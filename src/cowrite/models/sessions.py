"""Live connections (`/ws` and `/ws/yjs`), one row each."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from cowrite.kit.clock import utcnow
from cowrite.models.base import Base


class UserSession(Base):
    __tablename__ = "user_sessions"
    __table_args__ = (Index("ix_user_sessions_user_active", "user_id", "is_active"),)

    connection_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    login_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("logins.id", ondelete="SET NULL"), default=None
    )
    channel: Mapped[str] = mapped_column(String(8), default="ws")
    user_agent: Mapped[str] = mapped_column(String(512), default="")
    client_address: Mapped[str] = mapped_column(String(64), default="")
    device_type: Mapped[str] = mapped_column(String(16), default="web")
    workspace_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    document_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    process_id: Mapped[str] = mapped_column(String(64), default="", index=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    connected_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    disconnected_at: Mapped[datetime | None] = mapped_column(default=None)
