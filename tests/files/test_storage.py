"""The local-disk blob store, on its own."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from cowrite.storage import BlobNotFound, BlobStore, LocalBlobStore


async def _chunks(*pieces: bytes) -> AsyncIterator[bytes]:
    for piece in pieces:
        yield piece


async def _read_all(store: BlobStore, key: str, start: int = 0, length: int | None = None) -> bytes:
    reader = await store.open(key)
    return b"".join(
        [chunk async for chunk in reader.chunks(start, reader.size if length is None else length)]
    )


def _files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()]


async def test_put_open_stat_delete(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "files", write_batch_bytes=1000, read_chunk_bytes=300)
    pieces = [os.urandom(700) for _ in range(5)]
    data = b"".join(pieces)
    info = await store.put(_chunks(*pieces))
    assert info.size == len(data)
    assert info.sha256 == hashlib.sha256(data).hexdigest()
    assert await _read_all(store, info.key) == data
    assert await _read_all(store, info.key, 1000, 1234) == data[1000:2234]
    found = await store.stat(info.key)
    assert found is not None and found.size == len(data)
    assert [key async for key in store.list_keys()] == [info.key]
    assert await store.delete(info.key) is True
    assert await store.delete(info.key) is False
    assert await store.stat(info.key) is None
    with pytest.raises(BlobNotFound):
        await store.open(info.key)
    assert [key async for key in store.list_keys()] == []


async def test_keys_are_made_by_the_store(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "files")
    keys = {(await store.put(_chunks(b"same"))).key for _ in range(3)}
    assert len(keys) == 3
    for key in keys:
        assert len(key) == 32 and all(ch in "0123456789abcdef" for ch in key)


async def test_a_failed_write_leaves_nothing(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "files", write_batch_bytes=10)

    async def failing() -> AsyncIterator[bytes]:
        yield b"a" * 100
        raise RuntimeError("client went away")

    with pytest.raises(RuntimeError):
        await store.put(failing())
    assert _files(tmp_path) == []


async def test_nothing_is_visible_until_the_write_completes(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "files", write_batch_bytes=10)
    seen_during_write: list[str] = []

    async def watched() -> AsyncIterator[bytes]:
        yield b"first" * 10
        seen_during_write.extend([key async for key in store.list_keys()])
        yield b"second" * 10

    info = await store.put(watched())
    assert seen_during_write == []
    assert [key async for key in store.list_keys()] == [info.key]


async def test_foreign_keys_never_reach_the_file_system(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_bytes(b"do not serve")
    store = LocalBlobStore(tmp_path / "files")
    for key in ("../secret", "../../secret", str(secret), "", "ab", "A" * 32, "0" * 31 + "/"):
        with pytest.raises(BlobNotFound):
            await store.open(key)
        assert await store.stat(key) is None
        assert await store.delete(key) is False
    assert secret.exists()


async def test_a_reader_outlives_deletion(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "files")
    info = await store.put(_chunks(b"still here"))
    reader = await store.open(info.key)
    await store.delete(info.key)
    assert b"".join([chunk async for chunk in reader.chunks(0, reader.size)]) == b"still here"


async def test_abandoned_partial_writes_are_discarded(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "files")
    await store.put(_chunks(b"kept"))
    partial = tmp_path / "files" / "tmp" / "crashed.part"
    partial.write_bytes(b"half")
    fresh = tmp_path / "files" / "tmp" / "running.part"
    fresh.write_bytes(b"in flight")
    old = time.time() - 7200
    os.utime(partial, (old, old))
    assert await store.discard_incomplete(timedelta(hours=1)) == 1
    assert not partial.exists()
    assert fresh.exists()
    assert len([key async for key in store.list_keys()]) == 1
