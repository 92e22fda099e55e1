"""What REST readers of a document were handed, so a later write can merge against the body
its writer read.

A REST write carries no base: the merge has to guess what the writer started from. Each body
this process answered (GETs and the answers of writes) is remembered, a few per document; a write
then takes the one it differs from least (the writer's own read, unless another remembered body
is even closer), so what was typed live since that read is neither taken as new (and doubled)
nor reverted.
"""

from __future__ import annotations

import uuid
from collections import Counter, OrderedDict, deque
from collections.abc import Iterable

from cowrite.kit.sequences import common_run


class ServedBodies:
    """A few bodies per document, for the documents read last, within `max_chars` in all."""

    def __init__(
        self, per_document: int = 8, documents: int = 256, max_chars: int = 32 * 1024 * 1024
    ) -> None:
        self.per_document = per_document
        self.documents = documents
        self.max_chars = max_chars
        self._served: OrderedDict[uuid.UUID, deque[str]] = OrderedDict()
        self._chars = 0

    def note(self, document_id: uuid.UUID, text: str) -> None:
        """`text` was handed to a reader (the latest first among equals)."""
        served = self._served.get(document_id)
        if served is None:
            served = self._served[document_id] = deque()
        else:
            self._served.move_to_end(document_id)
            if served and served[-1] == text:
                return
            if text in served:
                served.remove(text)
                self._chars -= len(text)
        served.append(text)
        self._chars += len(text)
        if len(served) > self.per_document:
            self._chars -= len(served.popleft())
        while len(self._served) > 1 and (
            len(self._served) > self.documents or self._chars > self.max_chars
        ):
            _, dropped = self._served.popitem(last=False)
            self._chars -= sum(len(body) for body in dropped)

    def bodies(self, document_id: uuid.UUID) -> list[str]:
        """The bodies handed out, newest first."""
        return list(reversed(self._served.get(document_id, ())))

    def forget(self, document_id: uuid.UUID) -> None:
        dropped = self._served.pop(document_id, ())
        self._chars -= sum(len(body) for body in dropped)


def distance(a: str, b: str) -> int:
    """How much of `a` and `b` differs: the characters of the lines one has and the other
    lacks, between their common prefix and suffix (so edits at both ends of a long text, or a
    trailing newline, do not make every line count)."""
    if a == b:
        return 0
    limit = min(len(a), len(b))
    prefix = common_run(a, b, limit, from_end=False)
    suffix = common_run(a, b, limit - prefix, from_end=True)
    ours, theirs = (
        Counter(middle.split("\n")) if middle else Counter[str]()
        for middle in (a[prefix : len(a) - suffix], b[prefix : len(b) - suffix])
    )
    return sum(
        (len(line) + 1) * count
        for lacking in (ours - theirs, theirs - ours)
        for line, count in lacking.items()
    )


def closest(candidates: Iterable[str], text: str) -> str | None:
    """The candidate `text` differs from least; the first of equals."""
    best: str | None = None
    best_distance = -1
    for candidate in candidates:
        gap = distance(candidate, text)
        if best is None or gap < best_distance:
            best, best_distance = candidate, gap
            if gap == 0:
                break
    return best
