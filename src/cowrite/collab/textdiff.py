"""Turn a whole-text replacement into the few edits that make it, so concurrent edits elsewhere
in the text survive a REST write."""

from __future__ import annotations

from difflib import SequenceMatcher

# A character-level diff costs up to (changed old) x (changed new) steps on the event loop;
# past this bound the changed middle is replaced whole.
_FINE_DIFF_LIMIT = 100_000


def text_edits(old: str, new: str) -> list[tuple[int, int, str]]:
    """(start, deleted_length, inserted_text) in character offsets of `old`, last edit first."""
    if old == new:
        return []
    prefix = 0
    limit = min(len(old), len(new))
    while prefix < limit and old[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    while suffix < limit - prefix and old[len(old) - 1 - suffix] == new[len(new) - 1 - suffix]:
        suffix += 1
    old_mid = old[prefix : len(old) - suffix]
    new_mid = new[prefix : len(new) - suffix]
    if len(old_mid) * len(new_mid) > _FINE_DIFF_LIMIT or not old_mid or not new_mid:
        return [(prefix, len(old_mid), new_mid)]
    edits: list[tuple[int, int, str]] = []
    matcher = SequenceMatcher(None, old_mid, new_mid, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            edits.append((prefix + i1, i2 - i1, new_mid[j1:j2]))
    edits.reverse()
    return edits


def byte_offsets(text: str, edits: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """The same edits in UTF-8 byte offsets (how the server's Y.Text counts)."""
    result = []
    for start, length, inserted in edits:
        byte_start = len(text[:start].encode())
        byte_length = len(text[start : start + length].encode())
        result.append((byte_start, byte_length, inserted))
    return result
