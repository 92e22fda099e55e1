"""Users and their logins (one refresh-token family per login)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from cowrite.kit.clock import utcnow
from cowrite.models.base import Base, CreatedMixin, IdMixin


class User(IdMixin, CreatedMixin, Base):
    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(320), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Login(IdMixin, CreatedMixin, Base):
    """One sign-in: its id is the `sid` of every token it issues; revoking it ends them all."""

    __tablename__ = "logins"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    refresh_jti: Mapped[str] = mapped_column(String(64))
    # the refresh id rotated out last, and when: accepted again for a short grace
    previous_refresh_jti: Mapped[str | None] = mapped_column(String(64), default=None)
    rotated_at: Mapped[datetime | None] = mapped_column(default=None)
    last_used_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    user_agent: Mapped[str] = mapped_column(String(512), default="")
    client_address: Mapped[str] = mapped_column(String(64), default="")
    device_type: Mapped[str] = mapped_column(String(16), default="web")
