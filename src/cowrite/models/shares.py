"""Share links (anonymous read access to one document) and personal API tokens."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cowrite.models.base import Base, CreatedMixin, IdMixin


class ShareLink(IdMixin, CreatedMixin, Base):
    """A link that lets anyone holding its token read one document; only the token's hash is
    kept, so a leaked database gives no working link."""

    __tablename__ = "share_links"
    __table_args__ = (Index("ix_share_links_document", "document_id", "revoked_at"),)

    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(256), default=None)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    # Shared pages ask search engines not to index them unless the link says otherwise.
    noindex: Mapped[bool] = mapped_column(default=True)
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
    view_count: Mapped[int] = mapped_column(Integer, default=0)


class ApiToken(IdMixin, CreatedMixin, Base):
    """A personal API token (`cwp_…`): REST access as its owner, within its scopes."""

    __tablename__ = "api_tokens"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(JSON)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
