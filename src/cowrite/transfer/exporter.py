"""A workspace as a zip, streamed: one `.md` per document with YAML front matter, the files
under `attachments/`, and `cowrite.json` describing it all. Reads in short transactions."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import yaml
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cowrite.collab.formats import MARKDOWN
from cowrite.db import unit_of_work
from cowrite.documents.repository import tags_of
from cowrite.documents.visibility import Visibility
from cowrite.kit.clock import utcnow
from cowrite.kit.errors import NotFound
from cowrite.models import Document, StoredFile
from cowrite.storage import BlobNotFound, BlobStore
from cowrite.transfer import repository
from cowrite.transfer.links import replace_file_urls
from cowrite.transfer.names import UniqueNames, link_path, stem_for
from cowrite.transfer.zipstream import ZipStream

log = logging.getLogger(__name__)

MANIFEST = "cowrite.json"
FORMAT = "cowrite-export"
BATCH = 200
# Progress counts a document as one unit and an attachment as one unit per this many bytes.
BYTES_PER_UNIT = 64 * 1024

Progress = Callable[[float], None]


def front_matter(document: Document, tags: list[str]) -> str:
    meta: dict[str, Any] = {
        "title": document.title,
        "tags": tags,
        "created": document.created_at.isoformat(),
        "updated": document.updated_at.isoformat(),
    }
    # Said only when it differs from a plain document, so other tools' front matter stays small.
    if document.format != MARKDOWN:
        meta["format"] = document.format
    if document.visibility != Visibility.WORKSPACE:
        meta["visibility"] = document.visibility
    return "---\n" + yaml.safe_dump(meta, sort_keys=False, allow_unicode=True) + "---\n"


def attachment_path(stored: StoredFile) -> str:
    return f"attachments/{stored.id}/{stored.filename}"


def _file_entry(stored: StoredFile) -> dict[str, Any]:
    return {
        "id": str(stored.id),
        "path": attachment_path(stored),
        "filename": stored.filename,
        "content_type": stored.content_type,
        "size": stored.size,
        "sha256": stored.sha256,
    }


async def export_workspace(
    factory: async_sessionmaker[AsyncSession],
    store: BlobStore,
    workspace_id: uuid.UUID,
    progress: Progress | None = None,
) -> AsyncIterator[bytes]:
    """The zip's bytes, in order, as they are made."""
    async with unit_of_work(factory) as session:
        workspace = await repository.workspace(session, workspace_id)
        if workspace is None or workspace.deleted_at is not None:
            raise NotFound("Workspace not found", code="not_found")
        total_documents = await repository.live_document_count(session, workspace_id)
        files = list(await repository.exported_files(session, workspace_id))
    by_document: dict[uuid.UUID | None, list[StoredFile]] = {}
    for stored in files:
        by_document.setdefault(stored.document_id, []).append(stored)
    paths = {stored.id: attachment_path(stored) for stored in files}
    total_units = total_documents + sum(1 + s.size // BYTES_PER_UNIT for s in files) or 1
    done_units = 0

    def advance(units: int) -> None:
        nonlocal done_units
        done_units += units
        if progress is not None:
            progress(min(done_units / total_units, 0.99))

    archive = ZipStream()
    names = UniqueNames()
    names.take("cowrite", ".json")
    documents: list[dict[str, Any]] = []
    after: uuid.UUID | None = None
    while True:
        async with unit_of_work(factory) as session:
            batch = list(await repository.live_documents_after(session, workspace_id, after, BATCH))
            ids = [document.id for document in batch]
            tags = await tags_of(session, ids)
            versions = await repository.version_counts(session, ids)
            comments = await repository.comment_counts(session, ids)
            people = await repository.listed_people(session, ids)
        if not batch:
            break
        after = batch[-1].id
        for document in batch:
            path = names.take(stem_for(document.title), ".md")
            body = replace_file_urls(
                document.content,
                lambda file_id: link_path(paths[file_id]) if file_id in paths else None,
            )
            text = front_matter(document, tags.get(document.id, [])) + body
            yield archive.add_bytes(path, text.encode(), document.updated_at)
            documents.append(
                {
                    "id": str(document.id),
                    "path": path,
                    "title": document.title,
                    "tags": tags.get(document.id, []),
                    "format": document.format,
                    "visibility": document.visibility,
                    "people": people.get(document.id, []),
                    "created_at": document.created_at.isoformat(),
                    "updated_at": document.updated_at.isoformat(),
                    "versions": versions.get(document.id, 0),
                    "comments": comments.get(document.id, 0),
                    "attachments": [_file_entry(s) for s in by_document.get(document.id, [])],
                }
            )
            advance(1)
    missing: list[str] = []
    for stored in files:
        try:
            reader = await store.open(stored.storage_key)
        except BlobNotFound:
            # A row whose bytes are gone (see `cowrite files-gc`): listed, not fatal.
            log.warning("export: file %s has no blob %s", stored.id, stored.storage_key)
            missing.append(str(stored.id))
            continue
        async for piece in archive.add_stream(
            attachment_path(stored), reader.size, reader.chunks(0, reader.size), stored.created_at
        ):
            yield piece
        advance(1 + stored.size // BYTES_PER_UNIT)
    manifest = {
        "format": FORMAT,
        "version": 1,
        "exported_at": utcnow().isoformat(),
        "workspace": {"id": str(workspace.id), "name": workspace.name},
        "documents": documents,
        "files": [_file_entry(s) for s in by_document.get(None, [])],
        "missing_files": missing,
    }
    yield archive.add_bytes(MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False).encode())
    yield archive.close()
