"""A zip written as a stream of bytes: each entry goes out as it is written, never whole."""

from __future__ import annotations

import io
import zipfile
from collections.abc import AsyncIterable, AsyncIterator
from datetime import datetime


class _Sink(io.RawIOBase):
    """Collects what zipfile writes until the stream takes it; cannot seek, so zipfile writes
    data descriptors instead of going back to patch headers."""

    def __init__(self) -> None:
        self._pieces: list[bytes] = []
        self._position = 0

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def write(self, data: bytes) -> int:  # type: ignore[override]  # bytes-like in, count out
        self._pieces.append(bytes(data))
        self._position += len(data)
        return len(data)

    def tell(self) -> int:
        return self._position

    def take(self) -> bytes:
        data = b"".join(self._pieces)
        self._pieces.clear()
        return data


def _info(name: str, modified: datetime | None, compress: bool) -> zipfile.ZipInfo:
    stamp = (modified or datetime(1980, 1, 1)).timetuple()[:6]
    info = zipfile.ZipInfo(name, date_time=stamp)
    info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    info.external_attr = 0o644 << 16
    return info


class ZipStream:
    """Write entries with `add_bytes` / `add_stream`; each yields the zip's bytes so far."""

    def __init__(self) -> None:
        self._sink = _Sink()
        self._zip = zipfile.ZipFile(self._sink, "w", allowZip64=True)

    def add_bytes(self, name: str, data: bytes, modified: datetime | None = None) -> bytes:
        self._zip.writestr(_info(name, modified, compress=True), data)
        return self._sink.take()

    async def add_stream(
        self,
        name: str,
        size: int,
        chunks: AsyncIterable[bytes],
        modified: datetime | None = None,
    ) -> AsyncIterator[bytes]:
        """A stored (uncompressed) entry: attachments are mostly compressed already."""
        info = _info(name, modified, compress=False)
        info.file_size = size
        with self._zip.open(info, "w", force_zip64=size > 0x7FFFFFFF) as entry:
            async for chunk in chunks:
                entry.write(chunk)
                yield self._sink.take()
        yield self._sink.take()

    def close(self) -> bytes:
        self._zip.close()
        return self._sink.take()
