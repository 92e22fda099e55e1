"""Accounts signed in through an OpenID provider, and the one-time codes that hand a sign-in
over to the web app."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cowrite.kit.clock import utcnow
from cowrite.models.base import Base, CreatedMixin, IdMixin


class OidcIdentity(IdMixin, CreatedMixin, Base):
    """The provider's subject for a cowrite user: later sign-ins find the user by it."""

    __tablename__ = "oidc_identities"
    __table_args__ = (UniqueConstraint("issuer", "subject", name="uq_oidc_identities_subject"),)

    issuer: Mapped[str] = mapped_column(String(512))
    subject: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(320))
    last_login_at: Mapped[datetime] = mapped_column(default=utcnow)


class OidcHandoff(CreatedMixin, Base):
    """A short-lived, single-use code the web app exchanges for a token pair (stored hashed)."""

    __tablename__ = "oidc_handoffs"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None] = mapped_column(default=None)
