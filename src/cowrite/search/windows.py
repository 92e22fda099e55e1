"""How PostgreSQL looks for a search's newest matches: in windows of the newest documents (by
`search_seq`), each below the last, and by one of two ways, chosen from how many documents hold
the query's words (PostgreSQL's own statistics):

- a walk down the newest documents, testing each one's vector: cheap when most documents match,
  since it stops at the bound, but each document tested costs a read of its vector;
- a bitmap of the text index's matches ANDed with the window: its cost is the words' posting
  lists, read whole, so it pays when the matches are few among the documents walked over.

The first window is sized to hold the bound with a margin; one statement asks the windows in turn
and stops at the first that completes the bound, and the last has no floor, so nothing is missed
however the estimate falls."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from cowrite.search.query import Query, Term

# Each window holds GROWTH times as many documents as the one before it.
GROWTH = 4
# The first window is sized for this many times the wanted matches (the estimate is rough; a
# bitmap reads the posting lists again for each window, a walk stops wherever the bound is met).
MARGIN = {"walk": 3.0, "bitmap": 2.0}
# Without statistics the first window holds this many times the wanted matches.
BLIND_FIRST = 16
# Relative costs: testing one document's vector (walked over, or a bitmap's match), and one entry
# of a posting list of the text index.
ROW_COST = 3.5
ENTRY_COST = 0.12


@dataclass(frozen=True, slots=True)
class WordShares:
    """The share of documents holding each of the most common words, and at most `rest` for any
    other word (PostgreSQL's statistics of the text column, gathered by ANALYZE)."""

    shares: Mapping[str, float]
    rest: float

    def of(self, word: str) -> float:
        return self.shares.get(word, self.rest)

    def density(self, query: Query) -> float:
        """The expected share of documents that match `query`, words taken as independent."""

        def term(item: Term) -> float:
            return math.prod(self.of(word) for word in item.words)

        share = math.prod(
            1 - math.prod(1 - term(item) for item in terms) for terms in query.clauses
        )
        return share * math.prod(1 - term(item) for item in query.excluded)

    def index_entries(self, query: Query) -> float:
        """The share of the documents whose entries a bitmap reads from the text index: the
        rarest clause's (the index skips through the others), every word's with a phrase."""
        clauses = [
            sum(self.of(word) for item in terms for word in item.words) for terms in query.clauses
        ]
        if any(len(item.words) > 1 for terms in query.clauses for item in terms):
            return sum(clauses)
        return min(clauses)


@dataclass(frozen=True, slots=True)
class Plan:
    first: int  # documents in the first window; 0: one window, all documents
    bitmap: bool  # force the bitmap; otherwise the planner chooses (a walk, for frequent words)


def plan(query: Query, wanted: int, shares: WordShares | None, documents: int) -> Plan:
    """How to look for the `wanted` newest matches of `query` among `documents`."""
    if shares is None:
        return Plan(BLIND_FIRST * wanted, bitmap=False)
    density = shares.density(query)
    if density <= 0:
        return Plan(0, bitmap=True)
    walk = ROW_COST * wanted / density
    bitmap = ENTRY_COST * shares.index_entries(query) * documents + ROW_COST * wanted
    way = "bitmap" if bitmap < walk else "walk"
    return Plan(max(wanted, math.ceil(MARGIN[way] * wanted / density)), bitmap=way == "bitmap")


def floors(newest: int, first: int) -> list[int]:
    """The floors of the windows below `newest`, newest first: a document is in the first window
    when its `search_seq` is above the first floor, in the second when between the first two…,
    and in the last when at or below the last floor. No floor (one window) when `first` reaches
    back to the oldest document or is 0."""
    bounds: list[int] = []
    window = first
    while 0 < window < newest:
        bounds.append(newest - window)
        window *= GROWTH
    return bounds
