"""A small fixed corpus, the queries run against it, and a plain-Python reading of the query
language: both engines must answer exactly what the reference answers (the corpus is smaller
than `repository.CANDIDATES`, the bound past which only some matches are ranked)."""

from __future__ import annotations

import random
from dataclasses import dataclass

from cowrite.search.query import Query, Term, parse, tokens

VOCABULARY = [
    "alpha",
    "bravo",
    "charlie",
    "delta",
    "echo",
    "foxtrot",
    "golf",
    "hotel",
    "india",
    "juliet",
    "kilo",
    "lima",
    "mike",
    "november",
    "oscar",
    "papa",
    "quebec",
    "romeo",
    "sierra",
    "tango",
    "uniform",
    "victor",
    "whiskey",
    "xray",
    "yankee",
    "zulu",
]


@dataclass(frozen=True)
class Doc:
    key: str
    title: str
    content: str
    tags: tuple[str, ...] = ()


def _sentence(rng: random.Random, words: int) -> str:
    picked = [rng.choice(VOCABULARY[:14]) for _ in range(words)]
    # Vary case and punctuation: both engines must read "Alpha," as "alpha".
    picked = [w.title() if rng.random() < 0.2 else w for w in picked]
    return " ".join(picked) + rng.choice([".", ",", "!", "?", ";"])


def build_corpus(seed: int = 5) -> list[Doc]:
    rng = random.Random(seed)
    docs = [
        Doc(
            f"gen{i}",
            " ".join(rng.choice(VOCABULARY[:14]) for _ in range(rng.randint(1, 3))).title(),
            "\n".join(_sentence(rng, rng.randint(3, 9)) for _ in range(rng.randint(1, 5))),
            ("even",) if i % 2 == 0 else ("odd",),
        )
        for i in range(24)
    ]
    docs += [
        Doc("title-only", "Sierra Tango", "nothing relevant here: just zulu"),
        Doc("body-only", "Unrelated heading", "a body that mentions sierra and tango"),
        Doc("hyphen", "Hyphenated", "state-of-the-art romeo-juliet co-op"),
        Doc("markup", "Markup <b>bold</b>", 'html <script>alert("x")</script> romeo & juliet'),
        Doc("accents", "Café crème", "naïve façade über straße"),
        Doc("numbers", "Release 2024", "version 3.14 build 42 and x86_64"),
        Doc("syntax", "Operators", 'quote " paren ( star * colon : NEAR caret ^ OR AND NOT'),
    ]
    return docs


# Hand-checked queries and the exact documents they must find.
FIXED_QUERIES: list[tuple[str, set[str]]] = [
    ("sierra tango", {"title-only", "body-only"}),
    ('"sierra tango"', {"title-only"}),
    ('"tango sierra"', set()),
    ("sierra -zulu", {"body-only"}),
    ("zulu OR xray", {"title-only"}),
    ("romeo juliet", {"hyphen", "markup"}),
    ('"romeo juliet"', {"hyphen", "markup"}),
    ("state-of-the-art", {"hyphen"}),
    ("STATE of THE art", {"hyphen"}),
    ("café", {"accents"}),
    ("CAFÉ crème", {"accents"}),
    ("cafe", set()),
    ("straße", {"accents"}),
    ("2024", {"numbers"}),
    ("3.14", {"numbers"}),
    ("x86_64", {"numbers"}),
    ("script alert", {"markup"}),
    ("bold", {"markup"}),
    ("near", {"syntax"}),
    ('"paren star"', {"syntax"}),
    ("or", {"syntax"}),
    ("-sierra", set()),
    ("OR", set()),
    ("sierra OR", {"title-only", "body-only"}),
    ("OR sierra", {"title-only", "body-only"}),
    ("heading tango", {"body-only"}),
    ('"heading a"', set()),
]


def contains(haystack: list[str], words: tuple[str, ...]) -> bool:
    n = len(words)
    return any(tuple(haystack[i : i + n]) == words for i in range(len(haystack) - n + 1))


def reference(query: Query, docs: list[Doc]) -> set[str]:
    """The documents the query means: a phrase sits inside the title or inside the body."""

    def has(doc: Doc, term: Term) -> bool:
        return contains(tokens(doc.title), term.words) or contains(tokens(doc.content), term.words)

    if query.empty:
        return set()
    return {
        doc.key
        for doc in docs
        if all(any(has(doc, term) for term in clause) for clause in query.clauses)
        and not any(has(doc, term) for term in query.excluded)
    }


def generated_queries(seed: int = 9, count: int = 60) -> list[str]:
    """Random mixes of words, phrases, exclusions and ORs over the corpus vocabulary."""
    rng = random.Random(seed)
    pool = VOCABULARY[:16]
    queries = []
    for _ in range(count):
        parts = []
        for _ in range(rng.randint(1, 4)):
            roll = rng.random()
            if roll < 0.45:
                parts.append(rng.choice(pool))
            elif roll < 0.65:
                parts.append(f'"{rng.choice(pool)} {rng.choice(pool)}"')
            elif roll < 0.8:
                parts.append(f"-{rng.choice(pool)}")
            else:
                parts.append("OR")
        queries.append(" ".join(parts))
    return queries


def expected(text: str, docs: list[Doc]) -> set[str]:
    return reference(parse(text), docs)
