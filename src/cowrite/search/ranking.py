"""Relevance, computed here rather than by either engine, so that both backends order the same
matches the same way (FTS5's bm25 and PostgreSQL's ts_rank disagree on nearly every pair).

BM25 over the candidates: a term weighs more the fewer candidates hold it, a title occurrence
counts TITLE_WEIGHT times a body occurrence, and a long body (in characters) dilutes its counts.
Equal scores go to the newer document."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from cowrite.search.query import Query, Term

TITLE_WEIGHT = 10.0
_K1 = 1.2
_B = 0.75


class Rankable(Protocol):
    @property
    def title(self) -> str: ...

    @property
    def body(self) -> str: ...

    @property
    def key(self) -> int: ...


@dataclass(frozen=True, slots=True)
class _Counter:
    """Whole-token occurrences of one term (a word, or a phrase: its words in order with only
    separators between them) in lower-cased text."""

    first: str
    pattern: re.Pattern[str]

    @classmethod
    def of(cls, term: Term) -> _Counter:
        return cls(term.words[0], re.compile(r"[\W_]+".join(map(re.escape, term.words))))

    def count(self, lowered: str) -> int:
        # The first word is sought as plain text (much faster than a pattern), the rest of a
        # phrase matched where it stands; token boundaries are checked by hand.
        found = 0
        start = lowered.find(self.first)
        while start >= 0:
            match = self.pattern.match(lowered, start)
            end = match.end() if match else start + len(self.first)
            if match and not (start and lowered[start - 1].isalnum()):
                found += not (end < len(lowered) and lowered[end].isalnum())
            start = lowered.find(self.first, end if match else start + 1)
        return found


R = TypeVar("R", bound=Rankable)


def _terms(query: Query) -> list[Term]:
    return list(dict.fromkeys(term for terms in query.clauses for term in terms))


def rank(query: Query, candidates: Iterable[R], limit: int) -> list[tuple[float, R]]:
    """The best `limit` candidates, best first, with their scores (higher is better)."""
    items = list(candidates)
    if not items:
        return []
    counters = [_Counter.of(term) for term in _terms(query)]
    frequencies: list[list[float]] = []
    lengths: list[int] = []
    for item in items:
        title, body = item.title.lower(), item.body.lower()
        frequencies.append(
            [TITLE_WEIGHT * counter.count(title) + counter.count(body) for counter in counters]
        )
        lengths.append(len(item.title) + len(item.body))
    average = max(1.0, sum(lengths) / len(lengths))
    total = len(items)
    holders = [sum(1 for row in frequencies if row[index]) for index in range(len(counters))]
    weights = [math.log(1 + (total - held + 0.5) / (held + 0.5)) for held in holders]
    scored: list[tuple[float, R]] = []
    for item, row, length in zip(items, frequencies, lengths, strict=True):
        norm = _K1 * (1 - _B + _B * length / average)
        score = sum(
            weight * tf * (_K1 + 1) / (tf + norm)
            for weight, tf in zip(weights, row, strict=True)
            if tf
        )
        scored.append((score, item))
    scored.sort(key=lambda pair: (-pair[0], -pair[1].key))
    return scored[:limit]
