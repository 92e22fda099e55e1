"""How version texts are stored: whole, or as a line delta to the previous one (zlib either way).

A delta is a list of `[start, end, [lines...]]` edits: replace lines `start:end` of the base text
with the given lines. Pure functions, no I/O, so the storage cost can be measured on its own:
10,000 one-word edits to a 100 KB text, each kept as a version, store about 8 MB (1 GB raw);
see tests/versions/test_storage.py.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from difflib import SequenceMatcher

import orjson

FULL = "full"
DELTA = "delta"
# A whole copy every N versions bounds how many deltas a read has to apply.
FULL_EVERY = 50
_LEVEL = 6

Edit = tuple[int, int, list[str]]


@dataclass(frozen=True, slots=True)
class EncodedText:
    kind: str
    body: bytes


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def line_edits(base: str, new: str) -> list[Edit]:
    """The line edits that turn `base` into `new`; the unchanged head and tail are skipped first,
    so a small edit to a large text costs a comparison of the changed region only."""
    old_lines, new_lines = _lines(base), _lines(new)
    head = 0
    limit = min(len(old_lines), len(new_lines))
    while head < limit and old_lines[head] == new_lines[head]:
        head += 1
    tail = 0
    while (
        tail < limit - head
        and old_lines[len(old_lines) - 1 - tail] == new_lines[len(new_lines) - 1 - tail]
    ):
        tail += 1
    old_mid = old_lines[head : len(old_lines) - tail]
    new_mid = new_lines[head : len(new_lines) - tail]
    if not old_mid and not new_mid:
        return []
    if not old_mid or not new_mid or len(old_mid) * len(new_mid) > 1_000_000:
        return [(head, head + len(old_mid), new_mid)]
    edits: list[Edit] = []
    matcher = SequenceMatcher(None, old_mid, new_mid, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            edits.append((head + i1, head + i2, new_mid[j1:j2]))
    return edits


def apply_edits(base: str, edits: list[Edit]) -> str:
    lines = _lines(base)
    out: list[str] = []
    position = 0
    for start, end, replacement in edits:
        out.extend(lines[position:start])
        out.extend(replacement)
        position = end
    out.extend(lines[position:])
    return "".join(out)


def encode_full(text: str) -> EncodedText:
    return EncodedText(FULL, zlib.compress(text.encode(), _LEVEL))


def encode(number: int, text: str, previous: str | None) -> EncodedText:
    """Version `number`'s text: whole every FULL_EVERY versions (or without a predecessor, or
    when the delta would not be clearly smaller), else a delta against `previous`."""
    if previous is None or (number - 1) % FULL_EVERY == 0:
        return encode_full(text)
    delta = zlib.compress(orjson.dumps(line_edits(previous, text)), _LEVEL)
    if len(delta) * 2 > len(text.encode()):
        full = encode_full(text)
        if len(full.body) <= len(delta):
            return full
    return EncodedText(DELTA, delta)


def decode_full(body: bytes) -> str:
    return zlib.decompress(body).decode()


def apply_delta(base: str, body: bytes) -> str:
    edits = [(int(s), int(e), list(lines)) for s, e, lines in orjson.loads(zlib.decompress(body))]
    return apply_edits(base, edits)
