"""The text shown under a hit: a short stretch of the body around the query's words, cut here
(not by either engine) so both backends show the same snippet for the same document."""

from __future__ import annotations

import collections
import html
import re
from collections.abc import Collection

SNIPPET_TOKENS = 24
ELLIPSIS = "…"
_WORD = re.compile(r"[^\W_]+")
# The best stretch is sought among the first matches of each word (one word: its first match);
# a stretch reaches about SNIPPET_TOKENS words of English (in characters: no tokenizing).
_ANCHORS = 16
_REACH = 160
# Tokens kept before the stretch's first match, so the snippet does not open on it.
_LEAD = 3


class Snippets:
    """Snippets for one query: the words to find and mark (lower-case tokens)."""

    def __init__(self, words: Collection[str], size: int = SNIPPET_TOKENS) -> None:
        self.words = frozenset(words)
        self.size = size
        ordered = "|".join(map(re.escape, sorted(self.words, key=len, reverse=True)))
        # Splits a stretch into text and (captured) matching tokens.
        self._marks = re.compile(rf"(?<![^\W_])({ordered})(?![^\W_])", re.I) if ordered else None
        self._stretch = re.compile(rf"(?:[^\W_]+(?:[\W_]+|$)){{1,{size}}}")

    def _matches(self, text: str) -> list[tuple[int, str]]:
        """(offset, word) of the first matches of each word, in text order."""
        lowered = text.lower()
        if len(lowered) != len(text):  # a letter whose lower case is longer: offsets would drift
            return []
        found = []
        wanted = _ANCHORS if len(self.words) > 1 else 1
        for word in self.words:
            offset, seen = lowered.find(word), 0
            while offset >= 0 and seen < wanted:
                end = offset + len(word)
                if not (offset and lowered[offset - 1].isalnum()) and not (
                    end < len(lowered) and lowered[end].isalnum()
                ):
                    found.append((offset, word))
                    seen += 1
                offset = lowered.find(word, end)
        found.sort()
        return found

    def _anchor(self, text: str) -> int:
        """Where the stretch with the most distinct query words begins (the earliest such)."""
        matches = self._matches(text)
        best, best_count = 0, 0
        inside: collections.Counter[str] = collections.Counter()
        end = 0
        for start, word in matches:
            while end < len(matches) and matches[end][0] < start + _REACH:
                inside[matches[end][1]] += 1
                end += 1
            if len(inside) > best_count:
                best, best_count = start, len(inside)
            inside[word] -= 1
            if not inside[word]:
                del inside[word]
        return best

    def cut(self, text: str) -> str:
        """HTML: `size` tokens of `text` around its best match, escaped, each matching token
        in <mark>…</mark>; an ellipsis stands for text left out."""
        anchor = self._anchor(text)
        low = max(0, anchor - 20 * _LEAD)
        before = list(_WORD.finditer(text, low, anchor))
        if before and before[0].start() == low and low and _WORD.match(text, low - 1):
            before.pop(0)  # the look-back began inside a word
        start = before[-_LEAD:][0].start() if before else anchor
        stretch = self._stretch.search(text, start)
        if stretch is None:
            return ""
        head = ELLIPSIS + " " if _WORD.search(text, 0, stretch.start()) else ""
        body = stretch.group().rstrip()
        tail = " " + ELLIPSIS if _WORD.search(text, stretch.start() + len(body)) else ""
        pieces = self._marks.split(body) if self._marks else [body]
        # Odd pieces are the matches (letters and digits: nothing to escape).
        marked = "".join(
            f"<mark>{piece}</mark>" if index % 2 else html.escape(piece, quote=False)
            for index, piece in enumerate(pieces)
        )
        return " ".join((head + marked + tail).split())
