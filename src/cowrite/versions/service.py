"""Version history: record (folding quick edits by one author), read, list, diff."""

from __future__ import annotations

import asyncio
import difflib
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import ParamSpec, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from cowrite.kit.clock import utcnow
from cowrite.kit.errors import NotFound
from cowrite.kit.ids import new_id
from cowrite.models import Document, DocumentVersion
from cowrite.state import AppState
from cowrite.versions import codec, repository

# Texts larger than this are encoded and diffed in a worker thread, off the event loop.
_THREAD_THRESHOLD = 64 * 1024

P = ParamSpec("P")
R = TypeVar("R")


async def _off_loop_if_large(size: int, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    if size > _THREAD_THRESHOLD:
        return await asyncio.to_thread(fn, *args, **kwargs)
    return fn(*args, **kwargs)


def _rebuild(rows: Sequence[DocumentVersion]) -> tuple[str | None, str]:
    """The texts of the last two rows of a chain (the first row is whole)."""
    previous: str | None = None
    text = ""
    for index, row in enumerate(rows):
        previous = text if index else None
        text = (
            codec.decode_full(row.body)
            if row.kind == codec.FULL
            else codec.apply_delta(text, row.body)
        )
    return previous, text


async def _texts(
    session: AsyncSession, document_id: uuid.UUID, number: int
) -> tuple[str | None, str]:
    """(text of `number - 1` when it is part of the chain, text of `number`)."""
    rows = await repository.chain(session, document_id, number)
    if not rows or rows[-1].number != number:
        raise NotFound("Version not found", code="version_not_found")
    size = sum(len(row.body) for row in rows)
    return await _off_loop_if_large(size * 4, _rebuild, rows)


async def version_text(session: AsyncSession, document_id: uuid.UUID, number: int) -> str:
    return (await _texts(session, document_id, number))[1]


async def get_version(
    session: AsyncSession, document_id: uuid.UUID, number: int
) -> tuple[DocumentVersion, str]:
    version = await repository.by_number(session, document_id, number)
    if version is None:
        raise NotFound("Version not found", code="version_not_found")
    return version, await version_text(session, document_id, number)


async def _encode(number: int, text: str, previous: str | None) -> codec.EncodedText:
    return await _off_loop_if_large(len(text), codec.encode, number, text, previous)


async def record_version(
    session: AsyncSession,
    document: Document,
    author_id: uuid.UUID | None,
    *,
    source: str = "rest",
    label: str | None = None,
    fold_seconds: int,
    force: bool = False,
) -> None:
    """Record the document's current title and content (call after changing them, in the same
    transaction). Without a label, an unchanged text records nothing, and a change by the author
    of an unlabelled latest version younger than `fold_seconds` folds into it."""
    await repository.lock_document(session, document.id)
    latest = await repository.latest(session, document.id)
    now = utcnow()
    content = document.content or ""
    if latest is None:
        encoded = codec.encode_full(content)
        _add(session, document, 1, encoded, author_id, source, label, now)
        await session.flush()
        return
    before_latest, latest_text = await _texts(session, document.id, latest.number)
    explicit = label is not None or force
    if not explicit and latest_text == content and latest.title == document.title:
        return
    folds = (
        not explicit
        and latest.label is None
        and latest.author_id == author_id
        and now - latest.updated_at < timedelta(seconds=fold_seconds)
    )
    if folds:
        encoded = await _encode(latest.number, content, before_latest)
        latest.kind = encoded.kind
        latest.body = encoded.body
        latest.base_number = latest.number - 1 if encoded.kind == codec.DELTA else None
        latest.title = document.title
        latest.content_size = len(content.encode())
        latest.updated_at = now
    else:
        encoded = await _encode(latest.number + 1, content, latest_text)
        _add(session, document, latest.number + 1, encoded, author_id, source, label, now)
    await session.flush()


async def record_first_version(
    session: AsyncSession, document: Document, author_id: uuid.UUID | None, *, source: str = "rest"
) -> None:
    """Version 1 of a document created in this transaction: there is nothing to read or to lock
    first (nobody else knows the document yet); one plain insert."""
    content = document.content or ""
    size = len(content.encode())
    encoded = await _off_loop_if_large(size, codec.encode_full, content)
    now = utcnow()
    await repository.insert_version(
        session,
        {
            "id": new_id(),
            "document_id": document.id,
            "number": 1,
            "title": document.title,
            "label": None,
            "author_id": author_id,
            "kind": encoded.kind,
            "base_number": None,
            "body": encoded.body,
            "content_size": size,
            "created_at": now,
            "updated_at": now,
            "source": source,
        },
    )


def _add(
    session: AsyncSession,
    document: Document,
    number: int,
    encoded: codec.EncodedText,
    author_id: uuid.UUID | None,
    source: str,
    label: str | None,
    now: datetime,
) -> None:
    session.add(
        DocumentVersion(
            document_id=document.id,
            number=number,
            title=document.title,
            label=label,
            author_id=author_id,
            kind=encoded.kind,
            base_number=number - 1 if encoded.kind == codec.DELTA else None,
            body=encoded.body,
            content_size=len((document.content or "").encode()),
            created_at=now,
            updated_at=now,
            source=source,
        )
    )


async def list_versions(
    session: AsyncSession, document_id: uuid.UUID, limit: int, before: int | None
) -> Sequence[DocumentVersion]:
    return await repository.page(session, document_id, limit, before)


def unified_diff(old: str, new: str, old_name: str, new_name: str) -> str:
    return "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True),
            new.splitlines(keepends=True),
            fromfile=old_name,
            tofile=new_name,
        )
    )


async def diff(session: AsyncSession, document: Document, number: int, against: int | None) -> str:
    """Unified diff from version `number` to version `against` (None: the current document)."""
    old = await version_text(session, document.id, number)
    if against is None:
        new, new_name = document.content or "", "current"
    else:
        new, new_name = await version_text(session, document.id, against), f"version {against}"
    size = len(old) + len(new)
    return await _off_loop_if_large(size, unified_diff, old, new, f"version {number}", new_name)


async def snapshot(
    state: AppState,
    session: AsyncSession,
    document: Document,
    author_id: uuid.UUID,
    label: str | None,
) -> DocumentVersion:
    """Record the current text as a version of its own, labelled or not (never folded)."""
    await record_version(
        session,
        document,
        author_id,
        source="snapshot",
        label=label,
        fold_seconds=state.settings.version_fold_seconds,
        force=True,
    )
    version = await repository.latest(session, document.id)
    assert version is not None
    return version
