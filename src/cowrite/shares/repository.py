"""SQL for share links."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from cowrite.kit.clock import utcnow
from cowrite.kit.usage import Use
from cowrite.models import Document, ShareLink, Workspace

# A link that works: not revoked, not expired, its document live and its workspace live and
# sharing. Anything else finds no row, so every refusal looks the same. Built once.
_WORKING_LINK = (
    select(ShareLink, Document)
    .join(Document, Document.id == ShareLink.document_id)
    .join(Workspace, Workspace.id == ShareLink.workspace_id)
    .where(
        ShareLink.token_hash == bindparam("token_hash"),
        ShareLink.revoked_at.is_(None),
        (ShareLink.expires_at.is_(None)) | (ShareLink.expires_at > bindparam("now")),
        Document.deleted_at.is_(None),
        Workspace.deleted_at.is_(None),
        Workspace.allow_public_shares.is_(True),
    )
)


async def working_link(session: AsyncSession, token_hash: str) -> tuple[ShareLink, Document] | None:
    row = (
        await session.execute(_WORKING_LINK, {"token_hash": token_hash, "now": utcnow()})
    ).first()
    return None if row is None else (row[0], row[1])


async def add_link(session: AsyncSession, link: ShareLink) -> ShareLink:
    session.add(link)
    await session.flush()
    return link


async def live_links(session: AsyncSession, document_id: uuid.UUID) -> Sequence[ShareLink]:
    """The document's links that were not revoked (expired ones included), newest first."""
    result = await session.execute(
        select(ShareLink)
        .where(ShareLink.document_id == document_id, ShareLink.revoked_at.is_(None))
        .order_by(ShareLink.created_at.desc(), ShareLink.id.desc())
    )
    return result.scalars().all()


async def link_by_id(session: AsyncSession, share_id: uuid.UUID) -> ShareLink | None:
    return await session.get(ShareLink, share_id)


async def revoke(session: AsyncSession, share_ids: Sequence[uuid.UUID]) -> None:
    if share_ids:
        await session.execute(
            update(ShareLink)
            .where(ShareLink.id.in_(list(share_ids)), ShareLink.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )


async def live_links_in(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    document_id: uuid.UUID | None,
    creator_id: uuid.UUID | None,
) -> Sequence[ShareLink]:
    """The links not revoked in a workspace, narrowed to one document and/or one creator."""
    statement = select(ShareLink).where(
        ShareLink.workspace_id == workspace_id, ShareLink.revoked_at.is_(None)
    )
    if document_id is not None:
        statement = statement.where(ShareLink.document_id == document_id)
    if creator_id is not None:
        statement = statement.where(ShareLink.created_by == creator_id)
    return (await session.execute(statement)).scalars().all()


async def live_link_ids_of_workspace(
    session: AsyncSession, workspace_id: uuid.UUID
) -> list[uuid.UUID]:
    result = await session.execute(
        select(ShareLink.id).where(
            ShareLink.workspace_id == workspace_id, ShareLink.revoked_at.is_(None)
        )
    )
    return list(result.scalars())


_RECORD_USE = (
    update(ShareLink)
    .where(ShareLink.id == bindparam("share_id"))
    .values(
        view_count=ShareLink.view_count + bindparam("views"),
        last_used_at=bindparam("last"),
    )
)


async def record_uses(session: AsyncSession, uses: dict[uuid.UUID, Use]) -> None:
    rows = [
        {"share_id": share_id, "views": use.count, "last": use.last}
        for share_id, use in sorted(uses.items())
    ]
    # Core executemany: one statement for the batch, no ORM bookkeeping of loaded rows.
    connection = await session.connection()
    await connection.execute(_RECORD_USE, rows)


def is_expired(link: ShareLink, now: datetime | None = None) -> bool:
    return link.expires_at is not None and link.expires_at <= (now or utcnow())
