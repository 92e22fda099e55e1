"""Carry out an import: attachments to the blob store first, then every document and file row
in one transaction; if anything fails, the blobs written so far are removed and nothing shows."""

from __future__ import annotations

import asyncio
import mimetypes
import uuid
import zipfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from cowrite.db import unit_of_work
from cowrite.documents.service import create_document
from cowrite.documents.visibility import Visibility
from cowrite.files import repository as files_repository
from cowrite.files.names import normalize_content_type, safe_filename
from cowrite.kit.errors import NotFound, PayloadTooLarge
from cowrite.models import Document, DocumentMember, StoredFile
from cowrite.state import AppState
from cowrite.storage import BlobInfo
from cowrite.transfer import repository
from cowrite.transfer.plan import (
    TEXT_SUFFIXES,
    ImportPlan,
    PlannedDocument,
    decode_text,
    document_from_text,
    plan_archive,
)
from cowrite.transfer.zipsafe import ZipLimits, ZipRefused, open_archive, safe_entries
from cowrite.workspaces.access import require_role, role_in_workspace
from cowrite.workspaces.roles import Role

READ_CHUNK = 256 * 1024
Progress = Callable[[float], None]


def limits_of(state: AppState) -> ZipLimits:
    settings = state.settings
    return ZipLimits(
        max_entries=settings.import_max_entries,
        max_total_bytes=settings.import_max_total_bytes,
        max_ratio=settings.import_max_ratio,
    )


def plan_upload(state: AppState, path: Path, filename: str) -> tuple[ImportPlan, Any]:
    """The plan for an uploaded file, and the open archive its attachments are read from."""
    lowered = filename.lower()
    if lowered.endswith(".zip"):
        archive = open_archive(str(path))
        try:
            return plan_archive(archive, safe_entries(archive, limits_of(state))), archive
        except BaseException:
            archive.close()
            raise
    if lowered.endswith(TEXT_SUFFIXES):
        if path.stat().st_size > state.settings.max_document_bytes:
            raise ZipRefused(
                f"{filename!r} is larger than a document may be "
                f"({state.settings.max_document_bytes:,} bytes)"
            )
        text = decode_text(path.read_bytes(), filename)
        plan = ImportPlan(documents=[document_from_text(filename, text)])
        return plan, None
    raise ZipRefused(f"{filename!r}: import takes .md, .txt, .html or .zip files")


async def _entry_chunks(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> AsyncIterator[bytes]:
    handle = await asyncio.to_thread(archive.open, info)
    read = 0
    try:
        while True:
            try:
                chunk = await asyncio.to_thread(handle.read, READ_CHUNK)
            except (zipfile.BadZipFile, OSError, EOFError) as exc:
                raise ZipRefused(
                    f"The archive entry {info.filename!r} is damaged ({exc})"
                ) from None
            if not chunk:
                return
            read += len(chunk)
            if read > info.file_size:
                raise ZipRefused(f"The archive entry {info.filename!r} is larger than it claims")
            yield chunk
    finally:
        handle.close()


async def run_import(
    state: AppState,
    workspace_id: uuid.UUID,
    user_id: uuid.UUID,
    path: Path,
    filename: str,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Import one uploaded file; returns the documents and files created."""
    plan, archive = await asyncio.to_thread(plan_upload, state, path, filename)
    store = state.blobs
    written: list[BlobInfo] = []
    try:
        total = sum(planned.size for planned in plan.files.values()) or 1
        if any(p.size > state.settings.max_upload_bytes for p in plan.files.values()):
            raise ZipRefused(
                f"An attachment is larger than the upload limit "
                f"({state.settings.max_upload_bytes:,} bytes)"
            )
        blobs: dict[str, BlobInfo] = {}
        done = 0
        for planned in plan.files.values():
            info = archive.getinfo(planned.path) if archive is not None else None
            if info is None:
                continue
            blob = await store.put(_entry_chunks(archive, info))
            written.append(blob)
            blobs[planned.path] = blob
            done += planned.size
            if progress is not None:
                progress(0.9 * done / total)
        created = await _record(state, workspace_id, user_id, plan, blobs)
    except BaseException:
        for blob in written:
            await store.delete(blob.key)
        raise
    finally:
        if archive is not None:
            archive.close()
    return created


async def _record(
    state: AppState,
    workspace_id: uuid.UUID,
    user_id: uuid.UUID,
    plan: ImportPlan,
    blobs: dict[str, BlobInfo],
) -> dict[str, Any]:
    """The one transaction: every document and file row of the import, or none."""
    async with unit_of_work(state.session_factory) as session:
        if not await files_repository.lock_live_workspace(session, workspace_id):
            raise NotFound("Workspace not found", code="not_found")
        role = await role_in_workspace(session, user_id, workspace_id)
        require_role(role, Role.EDITOR)
        incoming = sum(blob.size for blob in blobs.values())
        used = await files_repository.workspace_usage(session, workspace_id)
        if used + incoming > state.settings.workspace_quota_bytes:
            raise PayloadTooLarge(
                "The import's attachments do not fit in the workspace's storage quota",
                code="workspace_quota_exceeded",
            )
        documents = []
        accounts = await repository.users_by_email(
            session, [email for planned in plan.documents for email, _ in planned.people]
        )
        unknown: set[str] = set()
        for planned in plan.documents:
            created = await create_document(
                state,
                session,
                workspace_id,
                user_id,
                planned.title,
                planned.content,
                planned.tags,
                format_name=planned.format,
            )
            unknown.update(
                await _list_people(session, created.id, planned, accounts, user_id, role)
            )
            documents.append({"id": str(created.id), "title": created.title})
        files = []
        for attachment in plan.files.values():
            blob = blobs.get(attachment.path)
            if blob is None:
                continue
            document_id = (
                None
                if attachment.document is None
                else uuid.UUID(documents[attachment.document]["id"])
            )
            stored = StoredFile(
                id=attachment.id,
                workspace_id=workspace_id,
                document_id=document_id,
                filename=safe_filename(attachment.filename),
                content_type=normalize_content_type(
                    attachment.content_type or mimetypes.guess_type(attachment.filename)[0]
                ),
                size=blob.size,
                sha256=blob.sha256,
                storage_key=blob.key,
                uploaded_by=user_id,
            )
            session.add(stored)
            files.append({"id": str(stored.id), "filename": stored.filename})
        await session.flush()
    return {"documents": documents, "files": files, "people_not_found": sorted(unknown)}


async def _list_people(
    session: AsyncSession,
    document_id: uuid.UUID,
    planned: PlannedDocument,
    accounts: dict[str, uuid.UUID],
    importer: uuid.UUID,
    importer_role: Role | None,
) -> set[str]:
    """Restrict the new document and list its people as the export had them; the emails with no
    account here are returned. Whoever imports a restricted document below admin keeps it, as
    restricting one by hand does."""
    people = {accounts[email]: role for email, role in planned.people if email in accounts}
    if planned.visibility == Visibility.RESTRICTED:
        document = await session.get(Document, document_id)
        assert document is not None
        document.visibility = Visibility.RESTRICTED
        if importer_role is None or not importer_role.at_least(Role.ADMIN):
            people[importer] = Role.EDITOR.value
    for user_id, role in people.items():
        session.add(
            DocumentMember(document_id=document_id, user_id=user_id, role=role, added_by=importer)
        )
    return {email for email, _ in planned.people if email not in accounts}
