"""Turn a whole-text replacement into the few edits that make it, so concurrent edits elsewhere
in the text survive a REST write."""

from __future__ import annotations

from difflib import SequenceMatcher

from cowrite.kit.sequences import common_run

# A character-level diff costs up to (changed old) x (changed new) steps on the event loop;
# past this bound the changed middle is replaced whole.
_FINE_DIFF_LIMIT = 100_000


def text_edits(old: str, new: str) -> list[tuple[int, int, str]]:
    """(start, deleted_length, inserted_text) in character offsets of `old`, last edit first."""
    if old == new:
        return []
    limit = min(len(old), len(new))
    prefix = common_run(old, new, limit, from_end=False)
    suffix = common_run(old, new, limit - prefix, from_end=True)
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


def rebase_edits(base: str, new: str, live: str) -> list[tuple[int, int, str]]:
    """The edits that make `new` of `base` (a writer's), placed in `live` (`base` as others
    changed it since): (start, deleted_length, inserted_text) in offsets of `live`, last edit
    first. Text changed live is kept unless an edit of the writer's touches it: that edit then
    takes in the whole live change (only there do the writer's words win)."""
    theirs = sorted(text_edits(base, live))
    spans: list[list[int]] = []  # [start, end in base, start, end in new]
    shift = 0
    for start, length, inserted in sorted(text_edits(base, new)):
        end = start + length
        span = [start, end, start + shift, start + shift + len(inserted)]
        shift += len(inserted) - length
        for their_start, their_length, _ in theirs:  # widened over the live changes it touches
            their_end = their_start + their_length
            if (their_start < span[1] and span[0] < their_end) or span[0] < their_start < span[1]:
                grow_left = max(0, span[0] - their_start)
                grow_right = max(0, their_end - span[1])
                span = [
                    span[0] - grow_left,
                    span[1] + grow_right,
                    span[2] - grow_left,
                    span[3] + grow_right,
                ]
        if spans and span[0] <= spans[-1][1]:  # widened into the previous one: one edit
            last = spans[-1]
            spans[-1] = [
                last[0],
                max(last[1], span[1]),
                last[2],
                span[3] + max(0, last[1] - span[1]),
            ]
        else:
            spans.append(span)

    def placed(offset: int, *, end: bool) -> int:
        moved = offset
        for their_start, their_length, inserted in theirs:
            their_end = their_start + their_length
            if their_end < offset or (their_end == offset and (their_length or not end)):
                moved += len(inserted) - their_length
            else:
                break
        return moved

    edits = []
    for start, end, new_start, new_end in reversed(spans):
        begin = placed(start, end=False)
        edits.append(
            (begin, placed(end, end=True) - begin if end > start else 0, new[new_start:new_end])
        )
    return edits
