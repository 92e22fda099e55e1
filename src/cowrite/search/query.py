"""The search language: parsed here, rendered for each engine; user text never reaches one raw.

Words must all match; "quoted words" match as a phrase; `-word` and `-"a phrase"` exclude; `OR`
between two terms lets either match (`a b OR c d` means a AND (b OR c) AND d). Everything else
(parentheses, `*`, `:`, `^`, `NEAR`, stray quotes, SQL) is just text: a term keeps only its runs
of letters and digits, which is also how both engines split the documents.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_TERMS = 32
MAX_PHRASE_TOKENS = 16

_WORD = re.compile(r"[^\W_]+")
_LEXEME = re.compile(r'-?"[^"]*"?|[^\s"]+')


def tokens(text: str) -> list[str]:
    """Lower-cased runs of letters and digits: the engines' own reading of a text."""
    return [token.lower() for token in _WORD.findall(text)]


@dataclass(frozen=True, slots=True)
class Term:
    """One word (one token) or a phrase (several, in order)."""

    words: tuple[str, ...]


@dataclass(slots=True)
class Query:
    # Every clause must match; a clause matches when any of its terms does.
    clauses: list[list[Term]] = field(default_factory=list)
    excluded: list[Term] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """Nothing to look for: a query of exclusions alone finds nothing either."""
        return not self.clauses


def parse(text: str) -> Query:
    query = Query()
    pending_or = False
    count = 0
    for raw in _LEXEME.findall(text.replace("(", " ").replace(")", " ")):
        if raw == "OR":
            pending_or = bool(query.clauses)
            continue
        negated = raw.startswith("-") and len(raw) > 1
        words = tuple(tokens(raw))[:MAX_PHRASE_TOKENS]
        if not words:
            continue
        if count >= MAX_TERMS:
            break
        count += 1
        term = Term(words)
        if negated:
            query.excluded.append(term)
            pending_or = False
        elif pending_or:
            query.clauses[-1].append(term)
            pending_or = False
        else:
            query.clauses.append([term])
    return query


def wanted_words(query: Query) -> set[str]:
    """Every word the query looks for (not the excluded ones): what a snippet marks."""
    return {word for terms in query.clauses for term in terms for word in term.words}


def to_fts5(query: Query) -> str:
    """An FTS5 MATCH expression; every word is a quoted string of letters and digits."""

    def term(item: Term) -> str:
        return '"' + " ".join(item.words) + '"'

    def clause(terms: list[Term]) -> str:
        return term(terms[0]) if len(terms) == 1 else "(" + " OR ".join(map(term, terms)) + ")"

    expression = " AND ".join(clause(terms) for terms in query.clauses)
    for item in query.excluded:
        expression = f"({expression}) NOT {term(item)}"
    return expression


def to_tsquery(query: Query) -> str:
    """A `to_tsquery` expression; every word is a quoted lexeme of letters and digits."""

    def term(item: Term) -> str:
        if len(item.words) == 1:
            return f"'{item.words[0]}'"
        # The title (weight A) and body (B) share one vector; a phrase must sit inside one.
        within = [" <-> ".join(f"'{word}':{weight}" for word in item.words) for weight in "AB"]
        return f"(({within[0]}) | ({within[1]}))"

    def clause(terms: list[Term]) -> str:
        return term(terms[0]) if len(terms) == 1 else "(" + " | ".join(map(term, terms)) + ")"

    parts = [clause(terms) for terms in query.clauses]
    parts += [f"!{term(item)}" for item in query.excluded]
    return " & ".join(parts)
