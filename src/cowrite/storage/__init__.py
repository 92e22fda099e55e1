"""Blob storage behind one Protocol."""

from __future__ import annotations

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
    """The configured backend; the embedded default keeps blobs under the data dir."""
    return LocalBlobStore(settings.data_dir / "files")
