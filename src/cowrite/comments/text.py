"""What comment bodies carry besides prose: mentions of members, and reaction emoji."""

from __future__ import annotations

import re
import unicodedata
import uuid

MENTION = re.compile(r"@\[([^\[\]\n]{1,200})\]\(user:([0-9a-fA-F-]{32,36})\)")
MAX_EMOJI_CODE_POINTS = 16

_ZWJ = 0x200D
_VARIATION = (0xFE0E, 0xFE0F)
_KEYCAP = 0x20E3
_SKIN_TONES = range(0x1F3FB, 0x1F400)
_REGIONAL = range(0x1F1E6, 0x1F200)
_TAGS = range(0xE0020, 0xE0080)
# Blocks that hold pictographs, and the older symbols that render as emoji.
_PICTOGRAPHIC = (
    range(0x1F000, 0x1FB00),
    range(0x2600, 0x27C0),
    range(0x2300, 0x2400),
    range(0x2B00, 0x2C00),
    range(0x2190, 0x2200),
    range(0x25A0, 0x2600),
)
_OLD_SYMBOLS = frozenset(
    [0x00A9, 0x00AE, 0x203C, 0x2049, 0x2122, 0x2139, 0x24C2, 0x3030, 0x303D, 0x3297, 0x3299]
)
_KEYCAP_BASES = frozenset(map(ord, "0123456789#*"))


def mentioned_ids(body: str) -> set[uuid.UUID]:
    """The user ids named as `@[Full Name](user:<uuid>)`."""
    found: set[uuid.UUID] = set()
    for match in MENTION.finditer(body):
        try:
            found.add(uuid.UUID(match.group(2)))
        except ValueError:
            continue
    return found


def _pictographic(code: int) -> bool:
    if code in _OLD_SYMBOLS:
        return True
    if code in _SKIN_TONES or code in _REGIONAL:
        return False
    return any(code in block for block in _PICTOGRAPHIC)


def _element(codes: list[int], at: int) -> int:
    """Past one emoji element at `at` (a pictograph with its modifiers), or -1."""
    if at >= len(codes) or not _pictographic(codes[at]):
        return -1
    at += 1
    if at < len(codes) and codes[at] in _VARIATION:
        at += 1
    if at < len(codes) and codes[at] in _SKIN_TONES:
        at += 1
    while at < len(codes) and codes[at] in _TAGS:  # subdivision flags
        at += 1
    return at


def is_single_emoji(value: str) -> bool:
    """One emoji grapheme: a pictograph (with variation selector, skin tone, tags), a ZWJ
    sequence of them, a flag (two regional indicators) or a keycap."""
    value = unicodedata.normalize("NFC", value)
    codes = [ord(ch) for ch in value]
    if not codes or len(codes) > MAX_EMOJI_CODE_POINTS:
        return False
    if len(codes) == 2 and all(code in _REGIONAL for code in codes):
        return True
    if codes[0] in _KEYCAP_BASES:
        rest = codes[1:]
        return rest in ([_KEYCAP], [0xFE0F, _KEYCAP])
    at = _element(codes, 0)
    while 0 <= at < len(codes):
        if codes[at] != _ZWJ:
            return False
        at = _element(codes, at + 1)
    return at == len(codes)
