"""The download response: an attachment streamed from the blob store, with ETag and ranges."""

from __future__ import annotations

import logging

from starlette.background import BackgroundTask
from starlette.datastructures import Headers
from starlette.responses import Response, StreamingResponse

from cowrite.files.names import content_disposition
from cowrite.files.ranges import byte_range, etag_for, none_match
from cowrite.kit.errors import NotFound
from cowrite.models import StoredFile
from cowrite.storage import BlobNotFound, BlobStore

log = logging.getLogger(__name__)


def _common_headers(etag: str) -> dict[str, str]:
    return {
        "ETag": etag,
        "Cache-Control": "private, no-cache",
        "X-Content-Type-Options": "nosniff",
        # Even if a browser is talked into rendering it, the file gets no origin and no scripts.
        "Content-Security-Policy": "sandbox; default-src 'none'",
        "Accept-Ranges": "bytes",
    }


async def file_response(store: BlobStore, stored: StoredFile, request_headers: Headers) -> Response:
    etag = etag_for(stored.sha256)
    headers = _common_headers(etag)
    if none_match(request_headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    selected = byte_range(
        request_headers.get("range"), request_headers.get("if-range"), etag, stored.size
    )
    try:
        reader = await store.open(stored.storage_key)
    except BlobNotFound:
        log.error("file %s has no blob %s", stored.id, stored.storage_key)
        raise NotFound("The file's content is missing", code="file_content_missing") from None
    start, length = selected if selected is not None else (0, stored.size)
    headers |= {
        "Content-Type": stored.content_type,
        "Content-Disposition": content_disposition(stored.filename),
        "Content-Length": str(length),
    }
    status = 200
    if selected is not None:
        status = 206
        headers["Content-Range"] = f"bytes {start}-{start + length - 1}/{stored.size}"
    return StreamingResponse(
        reader.chunks(start, length),
        status_code=status,
        headers=headers,
        background=BackgroundTask(reader.close),
    )
