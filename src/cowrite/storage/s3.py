"""Blobs in an S3-compatible bucket through obstore: streamed multipart uploads (aborted by
obstore when the stream fails), ranged gets for downloads, listing for the collector."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import obstore
from obstore.exceptions import NotFoundError
from obstore.store import S3Store

from cowrite.kit.errors import ServiceUnavailable
from cowrite.storage.base import BlobInfo, BlobNotFound, BlobStat, valid_key

# obstore answers a missing object with FileNotFoundError (or its own NotFoundError).
NOT_FOUND = (NotFoundError, FileNotFoundError)
PART_BYTES = 5 * 1024 * 1024
READ_CHUNK_BYTES = 256 * 1024


def _unavailable(exc: Exception) -> ServiceUnavailable:
    return ServiceUnavailable(
        f"File storage is unavailable: {type(exc).__name__}", code="storage_unavailable"
    )


class _Hashing:
    """Passes the upload's chunks to obstore while counting and hashing them; `abort()` makes
    the next pull fail, so obstore aborts the multipart upload."""

    def __init__(self, chunks: AsyncIterable[bytes]) -> None:
        self._chunks = aiter(chunks)
        self.hasher = hashlib.sha256()
        self.size = 0
        self._aborted = False
        # What the upstream raised (a limit, a cut-off client): re-raised as it was.
        self.failure: BaseException | None = None

    def abort(self) -> None:
        self._aborted = True

    def __aiter__(self) -> _Hashing:
        return self

    async def __anext__(self) -> bytes:
        while True:
            if self._aborted:
                raise asyncio.CancelledError("upload abandoned")
            try:
                chunk = await anext(self._chunks)
            except StopAsyncIteration:
                raise
            except BaseException as exc:
                self.failure = exc
                raise
            if chunk:
                self.hasher.update(chunk)
                self.size += len(chunk)
                return chunk


class S3BlobReader:
    def __init__(self, store: S3Store, key: str, size: int) -> None:
        self._store = store
        self._key = key
        self._size = size

    @property
    def size(self) -> int:
        return self._size

    async def chunks(self, start: int, length: int) -> AsyncIterator[bytes]:
        if length <= 0:
            return
        try:
            result = await obstore.get_async(
                self._store, self._key, options={"range": (start, start + length)}
            )
        except NOT_FOUND:
            raise BlobNotFound(self._key) from None
        async for buffer in result.stream(min_chunk_size=READ_CHUNK_BYTES):
            yield bytes(buffer)

    async def close(self) -> None:
        return None


class S3BlobStore:
    """Objects `<prefix>/<key>` in one bucket; keys are made here, as on disk."""

    def __init__(self, store: S3Store) -> None:
        self._store = store

    @classmethod
    def from_url(cls, url: str) -> S3BlobStore:
        """`s3://bucket/prefix?endpoint_url=…&region=…`; credentials from AWS_* variables."""
        parts = urlsplit(url)
        query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
        config: dict[str, Any] = {}
        endpoint = query.get("endpoint_url")
        if endpoint:
            config["endpoint"] = endpoint
        if "region" in query:
            config["region"] = query["region"]
        client: dict[str, Any] = {
            "connect_timeout": timedelta(seconds=float(query.get("connect_timeout", 3))),
            "timeout": timedelta(seconds=float(query.get("timeout", 300))),
        }
        if endpoint and endpoint.startswith("http://"):
            client["allow_http"] = True
        store = S3Store(
            parts.netloc,
            prefix=parts.path.strip("/") or None,
            client_options=client,  # type: ignore[arg-type]  # a ClientConfig TypedDict
            retry_config={"max_retries": 2, "retry_timeout": timedelta(seconds=10)},
            **config,
        )
        return cls(store)

    async def put(self, chunks: AsyncIterable[bytes]) -> BlobInfo:
        return await self.put_as(uuid.uuid4().hex, chunks)

    async def put_as(self, key: str, chunks: AsyncIterable[bytes]) -> BlobInfo:
        if not valid_key(key):
            raise ValueError(f"not a blob key: {key!r}")
        source = _Hashing(chunks)
        upload = asyncio.ensure_future(
            obstore.put_async(self._store, key, source, chunk_size=PART_BYTES, max_concurrency=4)
        )
        try:
            await asyncio.shield(upload)
        except asyncio.CancelledError:
            # Let obstore see a failing stream and abort the multipart upload, then go.
            source.abort()
            with contextlib.suppress(BaseException):
                await upload
            raise
        except Exception as exc:
            if source.failure is not None:
                raise source.failure from None
            if isinstance(exc, OSError) or type(exc).__module__.startswith("obstore"):
                raise _unavailable(exc) from exc
            raise
        return BlobInfo(key=key, size=source.size, sha256=source.hasher.hexdigest())

    async def _head(self, key: str) -> dict[str, Any] | None:
        try:
            meta = await obstore.head_async(self._store, key)
        except NOT_FOUND:
            return None
        except Exception as exc:
            raise _unavailable(exc) from exc
        return dict(meta)

    async def open(self, key: str) -> S3BlobReader:
        if not valid_key(key):
            raise BlobNotFound(key)
        meta = await self._head(key)
        if meta is None:
            raise BlobNotFound(key)
        return S3BlobReader(self._store, key, int(meta["size"]))

    async def delete(self, key: str) -> bool:
        if not valid_key(key) or await self._head(key) is None:
            return False
        try:
            await obstore.delete_async(self._store, key)
        except Exception as exc:
            raise _unavailable(exc) from exc
        return True

    async def stat(self, key: str) -> BlobStat | None:
        if not valid_key(key):
            return None
        meta = await self._head(key)
        if meta is None:
            return None
        return BlobStat(key, int(meta["size"]), meta["last_modified"])

    async def list_keys(self) -> AsyncIterator[str]:
        async for batch in obstore.list(self._store):
            for meta in batch:
                name = str(meta["path"]).rsplit("/", 1)[-1]
                if valid_key(name):
                    yield name

    async def discard_incomplete(self, older_than: timedelta) -> int:
        """Nothing to do here: a failed or abandoned upload is aborted as it fails (a bucket
        lifecycle rule covers a process killed mid-upload)."""
        return 0
