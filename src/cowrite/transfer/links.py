"""Links in Markdown: attachment URLs inside cowrite, relative paths inside an archive."""

from __future__ import annotations

import posixpath
import re
import uuid
from collections.abc import Callable
from urllib.parse import unquote

FILE_URL = re.compile(r"/api/v1/files/([0-9a-fA-F-]{36})/content")
# `[text](target "title")` and `![alt](<target with spaces>)`: group 2 is the target.
_LINK = re.compile(r"(\]\()(<[^>\n]*>|[^)\s]+)((?:\s+\"[^\"\n]*\")?\))")


def file_url(file_id: uuid.UUID) -> str:
    return f"/api/v1/files/{file_id}/content"


def file_ids_in(text: str) -> list[uuid.UUID]:
    found: list[uuid.UUID] = []
    for match in FILE_URL.finditer(text):
        try:
            found.append(uuid.UUID(match.group(1)))
        except ValueError:
            continue
    return found


def replace_file_urls(text: str, target: Callable[[uuid.UUID], str | None]) -> str:
    """Rewrite each attachment URL for which `target` gives a replacement."""

    def swap(match: re.Match[str]) -> str:
        try:
            replacement = target(uuid.UUID(match.group(1)))
        except ValueError:
            return match.group(0)
        return match.group(0) if replacement is None else replacement

    return FILE_URL.sub(swap, text)


def is_relative(target: str) -> bool:
    """A path inside the same archive: no scheme, no host, not absolute, not an anchor."""
    if not target or target.startswith(("#", "/", "\\")) or "://" in target:
        return False
    return re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target) is None


def replace_link_targets(text: str, target: Callable[[str], str | None]) -> str:
    """Rewrite Markdown link and image targets for which `target` gives a replacement."""

    def swap(match: re.Match[str]) -> str:
        raw = match.group(2)
        bare = raw[1:-1] if raw.startswith("<") else raw
        replacement = target(bare)
        if replacement is None:
            return match.group(0)
        return f"{match.group(1)}{replacement}{match.group(3)}"

    return _LINK.sub(swap, text)


def resolve(base_dir: str, target: str) -> str | None:
    """The archive path a relative link points at, or None when it leaves the archive."""
    path = unquote(target.split("#", 1)[0].split("?", 1)[0])
    if not path:
        return None
    joined = posixpath.normpath(posixpath.join(base_dir, path))
    if joined.startswith("../") or joined == ".." or joined.startswith("/"):
        return None
    return joined
