"""The text shown under a hit: a short stretch of the body around the query's words, cut here
(not by either engine) so both backends show the same snippet for the same document."""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Collection, Iterator

ELLIPSIS = "…"
# About two dozen words of English; a stretch is measured in characters, so that choosing it
# needs no tokenizing.
SNIPPET_CHARS = 160
# The best stretch is sought among the first few matches of each word (one word: its first).
_ANCHORS = 4
# Up to three whole words before a stretch's first match (read backwards), so that the snippet
# does not open on it.
_LEAD = re.compile(r"(?:\s+\S+){1,3}(?=\s)")
_LOOK_BACK = 40


def _occurrences(lowered: str, word: str, limit: int) -> Iterator[int]:
    """Offsets of `word` as a whole word (a run of letters and digits) in `lowered`."""
    offset, seen = lowered.find(word), 0
    while offset >= 0 and seen < limit:
        end = offset + len(word)
        if not (offset and lowered[offset - 1].isalnum()) and not (
            end < len(lowered) and lowered[end].isalnum()
        ):
            yield offset
            seen += 1
        offset = lowered.find(word, end)


class Snippets:
    """Snippets for one query: the words to find and mark (lower-case tokens)."""

    def __init__(self, words: Collection[str]) -> None:
        self.words = frozenset(words)

    def _matches(self, lowered: str, limit: int) -> list[tuple[int, str]]:
        """(offset, word) of the first `limit` matches of each word, in text order."""
        return sorted(
            (offset, word) for word in self.words for offset in _occurrences(lowered, word, limit)
        )

    def _anchor(self, lowered: str) -> int:
        """Where the stretch with the most distinct query words begins (the earliest such)."""
        matches = self._matches(lowered, _ANCHORS if len(self.words) > 1 else 1)
        if len(matches) < 2:
            return matches[0][0] if matches else 0
        best, best_count = 0, 0
        inside: Counter[str] = Counter()
        end = 0
        for start, word in matches:
            while end < len(matches) and matches[end][0] < start + SNIPPET_CHARS:
                inside[matches[end][1]] += 1
                end += 1
            if len(inside) > best_count:
                best, best_count = start, len(inside)
            inside[word] -= 1
            if not inside[word]:
                del inside[word]
        return best

    def _mark(self, stretch: str) -> str:
        """`stretch` escaped, with the query's words in <mark>…</mark>."""
        lowered = stretch.lower()
        spans = self._matches(lowered, len(stretch)) if len(lowered) == len(stretch) else []
        parts, position = [], 0
        for offset, word in spans:
            if offset >= position:
                end = offset + len(word)
                parts += [html.escape(stretch[position:offset], quote=False), "<mark>"]
                parts += [stretch[offset:end], "</mark>"]
                position = end
        parts.append(html.escape(stretch[position:], quote=False))
        return "".join(parts)

    def cut(self, text: str) -> str:
        """HTML: about SNIPPET_CHARS of `text` around its best match, escaped, each word of the
        query in <mark>…</mark>; an ellipsis stands for text left out."""
        lowered = text.lower()
        # A letter whose lower case is longer would shift the offsets: then no match is sought.
        anchor = self._anchor(lowered) if len(lowered) == len(text) else 0
        start = anchor
        if anchor:
            low = max(0, anchor - _LOOK_BACK)
            behind = text[low:anchor][::-1] + (" " if low == 0 else "")
            lead = _LEAD.match(behind)
            start = anchor - lead.end() if lead else anchor
            start += len(text[start:anchor]) - len(text[start:anchor].lstrip())
        end = start + SNIPPET_CHARS
        if end < len(text):  # end between words
            space = max(text.rfind(" ", anchor, end), text.rfind("\n", anchor, end))
            end = space if space > anchor else end
        head = ELLIPSIS + " " if start and not text[:start].isspace() else ""
        tail = " " + ELLIPSIS if end < len(text) and not text[end:].isspace() else ""
        return " ".join((head + self._mark(text[start:end]) + tail).split())
