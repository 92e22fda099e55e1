"""The search language and its rendering for FTS5 and to_tsquery (pure functions)."""

from __future__ import annotations

import re

import pytest

from cowrite.search.query import (
    MAX_TERMS,
    Term,
    parse,
    to_fts5,
    to_tsquery,
)


def test_words_phrases_exclusions_and_or() -> None:
    query = parse('Alpha "Bravo charlie" -delta -"echo foxtrot" golf OR hotel')
    assert query.clauses == [
        [Term(("alpha",))],
        [Term(("bravo", "charlie"))],
        [Term(("golf",)), Term(("hotel",))],
    ]
    assert query.excluded == [Term(("delta",)), Term(("echo", "foxtrot"))]
    assert to_fts5(query) == (
        '(("alpha" AND "bravo charlie" AND ("golf" OR "hotel")) NOT "delta") NOT "echo foxtrot"'
    )
    assert to_tsquery(query) == (
        "'alpha' & (('bravo':A <-> 'charlie':A) | ('bravo':B <-> 'charlie':B))"
        " & ('golf' | 'hotel') & !'delta'"
        " & !(('echo':A <-> 'foxtrot':A) | ('echo':B <-> 'foxtrot':B))"
    )


def test_punctuation_inside_a_word_makes_a_phrase() -> None:
    assert parse("state-of-the-art").clauses == [[Term(("state", "of", "the", "art"))]]
    assert parse("x86_64").clauses == [[Term(("x86", "64"))]]


@pytest.mark.parametrize("text", ["", "   ", "-word", "OR", "OR OR", '""', "( ) * : ^", "-a -b"])
def test_queries_with_nothing_to_find_are_empty(text: str) -> None:
    assert parse(text).empty


def test_or_at_the_edges_and_twice_is_ignored() -> None:
    assert parse("OR a OR OR b OR").clauses == [[Term(("a",)), Term(("b",))]]
    assert parse("a OR -b c").clauses == [[Term(("a",))], [Term(("c",))]]


def test_the_number_of_terms_is_bounded() -> None:
    query = parse(" ".join(f"w{i}" for i in range(100)))
    assert len(query.clauses) == MAX_TERMS


SAFE_FTS5 = re.compile(r'^[\w" ()]*$')
SAFE_TSQUERY = re.compile(r"^[\w' ()&|!<>:-]*$")


@pytest.mark.parametrize(
    "text",
    [
        'a" OR "b',
        "a' | 'b",
        "NEAR(a b, 3)",
        "{title content}: a",
        "a:* & b:A",
        "col:a ^b c*",
        "'; DROP TABLE documents; --",
        '"unbalanced',
        "a\u0000b",
        "ünïcode ✓ 漢字",
    ],
)
def test_rendered_queries_hold_only_quoted_letters_digits_and_our_operators(text: str) -> None:
    query = parse(text)
    fts5, tsquery = to_fts5(query), to_tsquery(query)
    assert SAFE_FTS5.match(fts5), fts5
    assert SAFE_TSQUERY.match(tsquery), tsquery
    for term in [t for clause in query.clauses for t in clause] + query.excluded:
        for word in term.words:
            assert re.fullmatch(r"[^\W_]+", word)
