"""Which entries of an uploaded zip may be read: refused outright when the archive tries to
leave its folder, claims too much, or compresses too well to be honest; symlinks are ignored."""

from __future__ import annotations

import re
import stat
import zipfile
from dataclasses import dataclass

# Entries smaller than this are not judged by their ratio: short repetitive text compresses
# very well without being a bomb.
RATIO_FLOOR_BYTES = 1024 * 1024


class ZipRefused(Exception):
    """The archive is unsafe or unreadable; the message says why, for the person importing."""


@dataclass(frozen=True, slots=True)
class ZipLimits:
    max_entries: int
    max_total_bytes: int
    max_ratio: float


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    return stat.S_ISLNK(info.external_attr >> 16)


def _check_name(name: str) -> str:
    normalized = name.replace("\\", "/")
    if normalized.startswith("/") or re.match(r"^[A-Za-z]:", normalized):
        raise ZipRefused(f"The archive entry {name!r} has an absolute path")
    if ".." in normalized.split("/"):
        raise ZipRefused(f"The archive entry {name!r} points outside the archive")
    if "\x00" in normalized:
        raise ZipRefused(f"The archive entry {name!r} has an invalid name")
    return normalized


def safe_entries(archive: zipfile.ZipFile, limits: ZipLimits) -> dict[str, zipfile.ZipInfo]:
    """Regular files by their (normalized) path; raises ZipRefused for an unsafe archive."""
    infos = archive.infolist()
    if len(infos) > limits.max_entries:
        raise ZipRefused(
            f"The archive has {len(infos)} entries; at most {limits.max_entries} are allowed"
        )
    entries: dict[str, zipfile.ZipInfo] = {}
    total = 0
    for info in infos:
        name = _check_name(info.filename)
        if info.is_dir() or _is_symlink(info):
            continue
        if info.file_size > limits.max_total_bytes:
            raise ZipRefused(
                f"The archive entry {name!r} claims {info.file_size:,} bytes; "
                f"an import holds at most {limits.max_total_bytes:,}"
            )
        total += info.file_size
        if total > limits.max_total_bytes:
            raise ZipRefused(f"The archive unpacks to more than {limits.max_total_bytes:,} bytes")
        if info.file_size >= RATIO_FLOOR_BYTES:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > limits.max_ratio:
                raise ZipRefused(
                    f"The archive entry {name!r} is compressed {ratio:.0f} to 1, "
                    "more than an honest file (a zip bomb?)"
                )
        entries[name] = info
    return entries


def open_archive(path: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ZipRefused(f"The file is not a readable zip archive ({exc})") from None
