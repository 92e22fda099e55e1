"""Names inside an export: one `.md` per document, unique, safe on any file system."""

from __future__ import annotations

import re
import unicodedata
from pathlib import PurePosixPath
from urllib.parse import quote

_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|#%]+')
MAX_STEM = 80


def stem_for(title: str) -> str:
    cleaned = _UNSAFE.sub("-", unicodedata.normalize("NFC", title)).strip(" .-")
    return cleaned[:MAX_STEM].rstrip(" .-") or "untitled"


class UniqueNames:
    """Hands out `stem.md`, then `stem (2).md`, … (compared case-insensitively)."""

    def __init__(self) -> None:
        self._taken: set[str] = set()

    def take(self, stem: str, suffix: str) -> str:
        candidate, n = f"{stem}{suffix}", 1
        while candidate.lower() in self._taken:
            n += 1
            candidate = f"{stem} ({n}){suffix}"
        self._taken.add(candidate.lower())
        return candidate


def link_path(path: str) -> str:
    """An archive path as a Markdown link target."""
    return quote(path, safe="/")


def title_from_path(path: str) -> str:
    return PurePosixPath(path).stem.replace("_", " ").strip() or "Untitled"
