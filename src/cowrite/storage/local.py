"""Blobs as files under one directory: written to a temp file, fsynced, then atomically renamed."""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
import time
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from cowrite.storage.base import BlobInfo, BlobNotFound, BlobStat, valid_key

_TEMP_SUFFIX = ".part"
_valid = valid_key


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LocalBlobReader:
    """An open file descriptor; positional reads, so one reader may serve any range."""

    def __init__(self, fd: int, size: int, chunk_size: int) -> None:
        self._fd: int | None = fd
        self._size = size
        self._chunk_size = chunk_size

    @property
    def size(self) -> int:
        return self._size

    async def chunks(self, start: int, length: int) -> AsyncIterator[bytes]:
        try:
            position, remaining = start, length
            while remaining > 0 and self._fd is not None:
                data = await asyncio.to_thread(
                    os.pread, self._fd, min(self._chunk_size, remaining), position
                )
                if not data:
                    return
                position += len(data)
                remaining -= len(data)
                yield data
        finally:
            self._close()

    async def close(self) -> None:
        self._close()

    def _close(self) -> None:
        # Synchronous on purpose: it must also run inside a cancelled task.
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)


class LocalBlobStore:
    """`root/blobs/<2 hex>/<key>` for finished blobs and `root/tmp/` for writes in progress."""

    def __init__(
        self,
        root: Path,
        *,
        write_batch_bytes: int = 1024 * 1024,
        read_chunk_bytes: int = 256 * 1024,
    ) -> None:
        self.root = root
        self._blobs = root / "blobs"
        self._tmp = root / "tmp"
        self._write_batch_bytes = write_batch_bytes
        self._read_chunk_bytes = read_chunk_bytes

    def _path(self, key: str) -> Path:
        return self._blobs / key[:2] / key

    async def put(self, chunks: AsyncIterable[bytes]) -> BlobInfo:
        return await self.put_as(uuid.uuid4().hex, chunks)

    async def put_as(self, key: str, chunks: AsyncIterable[bytes]) -> BlobInfo:
        if not _valid(key):
            raise ValueError(f"not a blob key: {key!r}")
        temp = self._tmp / f"{key}-{secrets.token_hex(4)}{_TEMP_SUFFIX}"
        handle = await asyncio.to_thread(self._create_temp, temp)
        hasher = hashlib.sha256()
        size = 0
        pending: list[bytes] = []
        pending_bytes = 0
        try:
            async for chunk in chunks:
                if not chunk:
                    continue
                pending.append(chunk)
                pending_bytes += len(chunk)
                size += len(chunk)
                if pending_bytes >= self._write_batch_bytes:
                    # One thread hop per batch: the write and the hash both leave the event loop.
                    await asyncio.to_thread(self._write, handle, hasher, pending)
                    pending, pending_bytes = [], 0
            await asyncio.to_thread(self._write, handle, hasher, pending)
            await asyncio.to_thread(self._publish, handle, temp, self._path(key))
        except BaseException:
            # Synchronous clean-up: it has to run even when the task is being cancelled.
            handle.close()
            temp.unlink(missing_ok=True)
            raise
        return BlobInfo(key=key, size=size, sha256=hasher.hexdigest())

    def _create_temp(self, temp: Path) -> BinaryIO:
        self._tmp.mkdir(parents=True, exist_ok=True)
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        return os.fdopen(fd, "wb")

    @staticmethod
    def _write(handle: BinaryIO, hasher: hashlib._Hash, pieces: list[bytes]) -> None:
        for piece in pieces:
            hasher.update(piece)
            handle.write(piece)

    @staticmethod
    def _publish(handle: BinaryIO, temp: Path, final: Path) -> None:
        handle.flush()
        os.fsync(handle.fileno())
        handle.close()
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(temp, final)
        _fsync_dir(final.parent)

    async def open(self, key: str) -> LocalBlobReader:
        if not _valid(key):
            raise BlobNotFound(key)
        try:
            fd = await asyncio.to_thread(os.open, self._path(key), os.O_RDONLY)
        except FileNotFoundError as exc:
            raise BlobNotFound(key) from exc
        return LocalBlobReader(fd, os.fstat(fd).st_size, self._read_chunk_bytes)

    async def delete(self, key: str) -> bool:
        if not _valid(key):
            return False
        try:
            await asyncio.to_thread(os.unlink, self._path(key))
        except FileNotFoundError:
            return False
        return True

    async def stat(self, key: str) -> BlobStat | None:
        if not _valid(key):
            return None
        try:
            result = await asyncio.to_thread(os.stat, self._path(key))
        except FileNotFoundError:
            return None
        return BlobStat(key, result.st_size, datetime.fromtimestamp(result.st_mtime, UTC))

    async def list_keys(self) -> AsyncIterator[str]:
        shards = await asyncio.to_thread(self._list, self._blobs)
        for shard in shards:
            for name in await asyncio.to_thread(self._list, self._blobs / shard):
                if _valid(name) and name[:2] == shard:
                    yield name

    @staticmethod
    def _list(path: Path) -> list[str]:
        try:
            return sorted(os.listdir(path))
        except FileNotFoundError:
            return []

    async def discard_incomplete(self, older_than: timedelta) -> int:
        return await asyncio.to_thread(self._discard_incomplete, older_than.total_seconds())

    def _discard_incomplete(self, older_than_seconds: float) -> int:
        cutoff = time.time() - older_than_seconds
        removed = 0
        for name in self._list(self._tmp):
            path = self._tmp / name
            try:
                if name.endswith(_TEMP_SUFFIX) and path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
        return removed
