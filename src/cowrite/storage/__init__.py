"""Blob storage behind one Protocol."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from cowrite.config import Settings
from cowrite.storage.base import BlobInfo, BlobNotFound, BlobReader, BlobStat, BlobStore
from cowrite.storage.local import LocalBlobStore

__all__ = [
    "BlobInfo",
    "BlobNotFound",
    "BlobReader",
    "BlobStat",
    "BlobStore",
    "LocalBlobStore",
    "create_blob_store",
]


def create_blob_store(settings: Settings) -> BlobStore:
    """The configured backend (`COWRITE_STORAGE_URL`); by default blobs live under the data dir."""
    url = settings.storage_url
    if not url:
        return LocalBlobStore(settings.data_dir / "files")
    scheme = urlsplit(url).scheme
    if scheme == "file":
        return LocalBlobStore(Path(unquote(urlsplit(url).path)))
    if scheme == "s3":
        from cowrite.storage.s3 import S3BlobStore

        return S3BlobStore.from_url(url)
    raise ValueError(f"COWRITE_STORAGE_URL: unknown scheme {scheme!r} (file:// or s3://)")
