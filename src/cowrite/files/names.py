"""User-supplied file names and content types, made safe to store and to send back."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

MAX_FILENAME_CHARS = 255
FALLBACK_NAME = "file"
DEFAULT_CONTENT_TYPE = "application/octet-stream"

# Characters that render like a path separator; NFKC maps the full-width ones but not these.
_SLASH_LOOKALIKES = dict.fromkeys(
    map(ord, "\u2215\u2044\u29f8\u29f9\u2216\ufe68\u2571\u2572\u27cb\u27cd"), "_"
)
# Reserved on common file systems; replaced so a saved download keeps its name.
_RESERVED = dict.fromkeys(map(ord, '<>:"|?*'), "_")
_DROPPED_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Zl", "Zp"}
_TOKEN = r"[a-z0-9!#$&^_.+-]{1,127}"
_MEDIA_TYPE = re.compile(rf"({_TOKEN})/({_TOKEN})")
_MAX_EXTENSION_CHARS = 16


def safe_filename(raw: str) -> str:
    """A display name with no path, no control or bidi characters and at most 255 characters.

    It is only ever shown and sent in Content-Disposition; storage keys never derive from it."""
    name = unicodedata.normalize("NFKC", raw).translate(_SLASH_LOOKALIKES)
    name = "".join(ch for ch in name if unicodedata.category(ch) not in _DROPPED_CATEGORIES)
    name = re.split(r"[/\\]", name)[-1]
    name = name.translate(_RESERVED)
    name = " ".join(name.split())  # any run of whitespace becomes one space
    name = name.strip(" .")
    if not name:
        return FALLBACK_NAME
    return _shorten(name, MAX_FILENAME_CHARS)


def _shorten(name: str, limit: int) -> str:
    if len(name) <= limit:
        return name
    stem, dot, extension = name.rpartition(".")
    if dot and stem and len(extension) <= _MAX_EXTENSION_CHARS:
        return f"{stem[: limit - len(extension) - 1].rstrip(' .')}.{extension}"
    return name[:limit].rstrip(" .")


def normalize_content_type(declared: str | None) -> str:
    """The declared media type when it is syntactically valid (parameters dropped), else the
    neutral default. The bytes are never sniffed; downloads are always attachments."""
    if not declared:
        return DEFAULT_CONTENT_TYPE
    essence = declared.split(";", 1)[0].strip().lower()
    return essence if _MEDIA_TYPE.fullmatch(essence) else DEFAULT_CONTENT_TYPE


def _ascii_char(ch: str) -> str:
    if unicodedata.combining(ch):
        return ""  # the accent of a decomposed letter: "é" falls back to "e"
    return ch if 0x20 <= ord(ch) < 0x7F and ch not in '"\\%' else "_"


def _ascii_fallback(name: str) -> str:
    cleaned = "".join(map(_ascii_char, unicodedata.normalize("NFKD", name)))
    cleaned = cleaned.strip(" .")
    if cleaned.strip("_"):
        return cleaned
    _, dot, extension = name.rpartition(".")
    ascii_extension = extension.isascii() and extension.isalnum()
    return f"download.{extension}" if dot and ascii_extension else "download"


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback and the exact name as RFC 5987 UTF-8 (RFC 6266)."""
    name = safe_filename(filename)
    fallback = _ascii_fallback(name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
