"""File attachments: streamed upload with limits, listing, deletion."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from cowrite.files import repository
from cowrite.files.multipart import MultipartReader, Part, invalid
from cowrite.files.names import normalize_content_type, safe_filename
from cowrite.kit.errors import BadRequest, NotFound, PayloadTooLarge, Unprocessable
from cowrite.kit.ids import parse_uuid
from cowrite.kit.pagination import PageParams, decode_cursor, next_cursor_for
from cowrite.models import StoredFile
from cowrite.state import AppState
from cowrite.storage import BlobInfo, BlobStore
from cowrite.workspaces.access import require_role, role_in_workspace
from cowrite.workspaces.roles import Role

log = logging.getLogger(__name__)

# Room for the multipart framing and the small fields around the file.
FORM_OVERHEAD_BYTES = 64 * 1024
MAX_FIELD_BYTES = 100


def store_of(state: AppState) -> BlobStore:
    return state.blobs


@dataclass(frozen=True, slots=True)
class _Limit:
    bytes: int
    code: str
    detail: str


def _limit_for(state: AppState, used: int) -> _Limit:
    """The tighter of the per-file limit and the workspace's remaining quota."""
    settings = state.settings
    room = settings.workspace_quota_bytes - used
    if room < settings.max_upload_bytes:
        return _Limit(
            max(room, 0), "workspace_quota_exceeded", "The workspace's storage quota is used up"
        )
    return _Limit(
        settings.max_upload_bytes,
        "file_too_large",
        f"The file is larger than {settings.max_upload_bytes} bytes",
    )


async def _limited(chunks: AsyncIterator[bytes], limit: _Limit) -> AsyncIterator[bytes]:
    """Pass chunks on and stop with 413 the moment the total passes the limit."""
    total = 0
    async for chunk in chunks:
        total += len(chunk)
        if total > limit.bytes:
            raise PayloadTooLarge(limit.detail, code=limit.code, headers={"Connection": "close"})
        yield chunk


async def _document_id_from(part: Part) -> uuid.UUID | None:
    raw = (await part.read(MAX_FIELD_BYTES)).decode("utf-8", "replace").strip()
    if not raw:
        return None
    document_id = parse_uuid(raw)
    if document_id is None:
        raise Unprocessable("document_id: not a valid UUID", code="validation_error")
    return document_id


async def _require_document(
    session: AsyncSession, workspace_id: uuid.UUID, document_id: uuid.UUID, user_id: uuid.UUID
) -> None:
    # A document of another workspace, or hidden from the user, is not revealed: same answer
    # as a missing one.
    found = await repository.live_document_in_workspace(session, workspace_id, document_id, user_id)
    if not found:
        raise NotFound("Document not found", code="not_found")


@dataclass
class _Upload:
    blob: BlobInfo | None = None
    filename: str = ""
    content_type: str = ""
    document_id: uuid.UUID | None = None


async def upload(
    state: AppState,
    session: AsyncSession,
    workspace_id: uuid.UUID,
    user_id: uuid.UUID,
    content_type: str | None,
    body: AsyncIterator[bytes],
    declared_length: int | None = None,
) -> StoredFile:
    """Stream the `file` part into the blob store, then record it in one short transaction.

    The request's transaction is committed before the body is read, so a slow 200 MB upload
    never holds a database lock (SQLite takes the write lock at BEGIN)."""
    limit = _limit_for(state, await repository.workspace_usage(session, workspace_id))
    await session.commit()
    if limit.bytes <= 0 or (
        declared_length is not None and declared_length > limit.bytes + FORM_OVERHEAD_BYTES
    ):
        # Refused before a byte is read: a client that sent `Expect: 100-continue` never
        # sends the body at all.
        raise PayloadTooLarge(limit.detail, code=limit.code, headers={"Connection": "close"})
    store = store_of(state)
    reader = MultipartReader(body, content_type, max_body_bytes=limit.bytes + FORM_OVERHEAD_BYTES)
    received = _Upload()
    try:
        async for part in reader.parts():
            if part.name == "file":
                if received.blob is not None:
                    raise invalid("Send one `file` part per upload")
                received.filename = safe_filename(part.filename or "")
                received.content_type = normalize_content_type(part.content_type)
                received.blob = await store.put(_limited(part.chunks(), limit))
            elif part.name == "document_id":
                received.document_id = await _document_id_from(part)
                if received.document_id is not None and received.blob is None:
                    # Sent first (as clients should): refuse a bad one before the body arrives.
                    await _require_document(session, workspace_id, received.document_id, user_id)
                    await session.commit()
        if received.blob is None:
            raise Unprocessable("The form has no `file` part", code="file_missing")
        return await _record(state, session, workspace_id, user_id, received, received.blob)
    except BaseException:
        if received.blob is not None:
            await store.delete(received.blob.key)
        raise


async def _record(
    state: AppState,
    session: AsyncSession,
    workspace_id: uuid.UUID,
    user_id: uuid.UUID,
    received: _Upload,
    blob: BlobInfo,
) -> StoredFile:
    """The short closing transaction: re-check what may have changed during the received."""
    if not await repository.lock_live_workspace(session, workspace_id):
        raise NotFound("Workspace not found", code="not_found")
    require_role(await role_in_workspace(session, user_id, workspace_id), Role.EDITOR)
    if received.document_id is not None:
        await _require_document(session, workspace_id, received.document_id, user_id)
    used = await repository.workspace_usage(session, workspace_id)
    if used + blob.size > state.settings.workspace_quota_bytes:
        raise PayloadTooLarge(
            "The workspace's storage quota is used up", code="workspace_quota_exceeded"
        )
    stored = StoredFile(
        workspace_id=workspace_id,
        document_id=received.document_id,
        filename=received.filename,
        content_type=received.content_type,
        size=blob.size,
        sha256=blob.sha256,
        storage_key=blob.key,
        uploaded_by=user_id,
    )
    session.add(stored)
    await session.commit()
    return stored


async def list_files(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    user_id: uuid.UUID,
    document_id: uuid.UUID | None,
    page: PageParams,
) -> tuple[Sequence[StoredFile], str | None]:
    if document_id is not None:
        await _require_document(session, workspace_id, document_id, user_id)
    after = None
    if page.cursor is not None:
        created_at, file_id = decode_cursor(page.cursor)
        try:
            after = (datetime.fromisoformat(str(created_at)), file_id)
        except ValueError as exc:
            raise BadRequest("Invalid cursor", code="invalid_cursor") from exc
    rows = await repository.list_files(
        session, workspace_id, user_id, document_id=document_id, after=after, limit=page.limit + 1
    )
    return next_cursor_for(rows, page.limit, lambda row: (row.created_at, row.id))


async def delete(state: AppState, session: AsyncSession, stored: StoredFile) -> None:
    """The row goes first (committed), then the blob: a failure in between leaves an orphan
    blob for the collector, never a row pointing at nothing."""
    await repository.delete_file(session, stored.id)
    await session.commit()
    if not await store_of(state).delete(stored.storage_key):
        log.warning("file %s had no blob %s", stored.id, stored.storage_key)
