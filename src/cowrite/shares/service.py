"""Share links: made by editors, read by anyone holding the token, revoked at once.

A link works only while the person who made it may still edit its document: when that ends
(their workspace role lowered or taken away, the document restricted without them, their own
role on it lowered), their links are revoked in the same transaction, so readers leave at once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from cowrite.documents.access import document_grant
from cowrite.kit.clock import utcnow
from cowrite.kit.errors import (
    BadRequest,
    Forbidden,
    NotFound,
    TooManyRequests,
    Unauthorized,
    Unprocessable,
)
from cowrite.kit.events import SharesRevoked
from cowrite.kit.secrets import digest, digest_matches
from cowrite.models import Document, ShareLink, Workspace
from cowrite.shares import repository
from cowrite.shares.schemas import ShareOut
from cowrite.shares.tokens import MAX_TOKEN_LENGTH, ShareAccessTokens, new_share_token
from cowrite.state import AppState
from cowrite.webhooks.events import enqueue_event
from cowrite.workspaces.outbox import EventOutbox
from cowrite.workspaces.roles import Role


def access_tokens(state: AppState) -> ShareAccessTokens:
    assert state.share_access is not None, "share links start with the app"
    return state.share_access


def link_out(link: ShareLink, state: AppState, token: str | None = None) -> ShareOut:
    usage = state.share_usage
    pending = usage.pending(link.id) if usage is not None else None
    return ShareOut(
        id=link.id,
        document_id=link.document_id,
        token=token,
        url=f"{state.settings.public_url.rstrip('/')}/s/{token}" if token else None,
        expires_at=link.expires_at,
        has_password=link.password_hash is not None,
        noindex=link.noindex,
        created_by=link.created_by,
        created_at=link.created_at,
        last_used_at=usage.latest(link.id, link.last_used_at) if usage else link.last_used_at,
        view_count=link.view_count + (pending.count if pending else 0),
    )


async def create_link(
    state: AppState,
    session: AsyncSession,
    document: Document,
    creator_id: uuid.UUID,
    *,
    expires_at: datetime | None,
    password: str | None,
    noindex: bool,
) -> ShareOut:
    if expires_at is not None and expires_at <= utcnow():
        raise Unprocessable("expires_at: must be in the future", code="validation_error")
    workspace = await session.get(Workspace, document.workspace_id)
    if workspace is None or not workspace.allow_public_shares:
        raise Forbidden("Public sharing is turned off in this workspace", code="sharing_disabled")
    token = new_share_token()
    link = ShareLink(
        document_id=document.id,
        workspace_id=document.workspace_id,
        token_hash=digest(token),
        password_hash=await state.passwords.hash(password) if password else None,
        expires_at=expires_at,
        noindex=noindex,
        created_by=creator_id,
        view_count=0,
    )
    await repository.add_link(session, link)
    # The webhook names the link, never its token (that is the reader's key).
    await enqueue_event(
        session,
        document.workspace_id,
        "share.created",
        {
            "share_id": str(link.id),
            "document_id": str(document.id),
            "created_by": str(creator_id),
            "expires_at": expires_at.isoformat() if expires_at else None,
            "has_password": link.password_hash is not None,
        },
        subject=document.id,
    )
    return link_out(link, state, token)


async def list_links(
    state: AppState, session: AsyncSession, document_id: uuid.UUID
) -> list[ShareOut]:
    links = await repository.live_links(session, document_id)
    return [link_out(link, state) for link in links]


async def revoke_link(session: AsyncSession, link: ShareLink, outbox: EventOutbox) -> None:
    await repository.revoke(session, [link.id])
    outbox.add(SharesRevoked(share_ids=(link.id,)))


async def revoke_workspace_links(
    session: AsyncSession, workspace_id: uuid.UUID, outbox: EventOutbox
) -> None:
    """Public sharing was turned off: every link of the workspace stops for good."""
    ids = await repository.live_link_ids_of_workspace(session, workspace_id)
    await repository.revoke(session, ids)
    if ids:
        outbox.add(SharesRevoked(share_ids=tuple(ids)))


async def _creator_may_edit(session: AsyncSession, link: ShareLink) -> bool:
    if link.created_by is None:  # the person who made it is gone
        return False
    try:
        await document_grant(
            session, link.created_by, link.document_id, Role.EDITOR, allow_trashed=True
        )
    except (NotFound, Forbidden):
        return False
    return True


async def revoke_links_creators_lost(
    session: AsyncSession,
    outbox: EventOutbox,
    workspace_id: uuid.UUID,
    *,
    document_id: uuid.UUID | None = None,
    creator_id: uuid.UUID | None = None,
) -> None:
    """After an access change (flushed): revoke the live links in this scope whose creator may no
    longer edit their document."""
    links = await repository.live_links_in(session, workspace_id, document_id, creator_id)
    lost = [link.id for link in links if not await _creator_may_edit(session, link)]
    await repository.revoke(session, lost)
    if lost:
        outbox.add(SharesRevoked(share_ids=tuple(lost)))


@dataclass(frozen=True, slots=True)
class OpenedLink:
    link: ShareLink
    document: Document


async def find_link(session: AsyncSession, token: str) -> OpenedLink:
    """The working link of a token; 404 for an unknown, revoked or expired one, a trashed
    document, a workspace that stopped sharing, or a creator who may no longer edit the document
    (one answer for all)."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise NotFound("Link not found", code="not_found")
    hashed = digest(token)
    found = await repository.working_link(session, hashed)
    if found is None or not digest_matches(token, found[0].token_hash):
        raise NotFound("Link not found", code="not_found")
    if not await _creator_may_edit(session, found[0]):
        raise NotFound("Link not found", code="not_found")
    return OpenedLink(link=found[0], document=found[1])


def check_unlocked(state: AppState, link: ShareLink, bearer: str | None) -> None:
    """A password-protected link needs the token its unlock gave; others need nothing."""
    if link.password_hash is None:
        return
    if not bearer:
        raise Unauthorized("This link needs a password", code="password_required")
    if access_tokens(state).share_of(bearer) != link.id:
        raise Unauthorized("Unlock the link first", code="password_required")


async def open_link(
    state: AppState, session: AsyncSession, token: str, bearer: str | None
) -> OpenedLink:
    opened = await find_link(session, token)
    check_unlocked(state, opened.link, bearer)
    return opened


def _unlock_keys(share_key: str, address: str) -> tuple[str, str]:
    return f"share:link:{share_key}", f"share:addr:{address}"


async def unlock(
    state: AppState, session: AsyncSession, token: str, password: str, address: str
) -> str:
    """Check a link's password (throttled per link and per address); its unlock token."""
    settings = state.settings
    by_link, by_address = _unlock_keys(digest(token)[:32], address)
    wait = await state.throttle.retry_after(
        [
            (by_link, settings.share_unlock_max_failures_per_link),
            (by_address, settings.share_unlock_max_failures_per_address),
        ]
    )
    if wait:
        raise TooManyRequests(
            "Too many wrong passwords; try again later",
            code="unlock_throttled",
            headers={"Retry-After": str(wait)},
        )
    opened = await find_link(session, token)
    if opened.link.password_hash is None:
        raise BadRequest("This link has no password", code="no_password")
    if not await state.passwords.verify(opened.link.password_hash, password):
        await state.throttle.record_failure([by_link, by_address])
        raise Unauthorized("Wrong password", code="invalid_password")
    return access_tokens(state).issue(opened.link.id)


async def link_for_revocation(session: AsyncSession, share_id: uuid.UUID) -> ShareLink:
    link = await repository.link_by_id(session, share_id)
    if link is None or link.revoked_at is not None:
        raise NotFound("Share link not found", code="not_found")
    return link
