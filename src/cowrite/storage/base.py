"""The blob store Protocol: what the file service needs from any backend (disk, S3-compatible)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol


class BlobNotFound(LookupError):
    """No blob is stored under this key."""


# Keys are made by the stores, never taken from users; anything else is refused before it nears
# a path or an object name.
_KEY = re.compile(r"[0-9a-f]{32}")


def valid_key(key: str) -> bool:
    return _KEY.fullmatch(key) is not None


@dataclass(frozen=True, slots=True)
class BlobInfo:
    """What the store learned while writing a blob."""

    key: str
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class BlobStat:
    key: str
    size: int
    modified_at: datetime


class BlobReader(Protocol):
    """An opened blob: reading keeps working even if the blob is deleted meanwhile."""

    @property
    def size(self) -> int: ...

    def chunks(self, start: int, length: int) -> AsyncIterator[bytes]:
        """Yield `length` bytes from offset `start`, in bounded chunks; closes the reader."""
        ...

    async def close(self) -> None: ...


class BlobStore(Protocol):
    """Immutable blobs under server-generated keys; a half-written blob is never visible."""

    async def put(self, chunks: AsyncIterable[bytes]) -> BlobInfo:
        """Store the bytes under a new key. If `chunks` raises, nothing is left behind."""
        ...

    async def put_as(self, key: str, chunks: AsyncIterable[bytes]) -> BlobInfo:
        """Store bytes under a key this store handed out before (restoring a backup)."""
        ...

    async def open(self, key: str) -> BlobReader:
        """Open a blob for reading; raises BlobNotFound."""
        ...

    async def delete(self, key: str) -> bool:
        """Remove a blob; False when it was not there."""
        ...

    async def stat(self, key: str) -> BlobStat | None: ...

    def list_keys(self) -> AsyncIterator[str]:
        """Every stored key (for the garbage collector)."""
        ...

    async def discard_incomplete(self, older_than: timedelta) -> int:
        """Remove writes that never finished (a crash mid-upload); returns how many."""
        ...
