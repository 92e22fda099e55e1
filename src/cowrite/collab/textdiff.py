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
    limit = min(len(old), len(new))
    prefix = _common_run(old, new, limit, from_end=False)
    suffix = _common_run(old, new, limit - prefix, from_end=True)
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


def _common_run(old: str, new: str, limit: int, *, from_end: bool) -> int:
    """Length of the common prefix (or suffix) within `limit`: block compares first, so a
    large document costs C-speed slices, not a Python step per character."""
    count = 0
    block = 4096
    if from_end:
        while (
            count + block <= limit
            and old[len(old) - count - block : len(old) - count]
            == (new[len(new) - count - block : len(new) - count])
        ):
            count += block
        while count < limit and old[len(old) - 1 - count] == new[len(new) - 1 - count]:
            count += 1
        return count
    while count + block <= limit and old[count : count + block] == new[count : count + block]:
        count += block
    while count < limit and old[count] == new[count]:
        count += 1
    return count


def byte_offsets(text: str, edits: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """The same edits in UTF-8 byte offsets (how the server's Y.Text counts)."""
    result = []
    for start, length, inserted in edits:
        byte_start = len(text[:start].encode())
        byte_length = len(text[start : start + length].encode())
        result.append((byte_start, byte_length, inserted))
    return result
