"""Relevance computed in Python: the same order on both backends for the same candidates."""

from __future__ import annotations

from dataclasses import dataclass

from cowrite.search.query import parse
from cowrite.search.ranking import rank


@dataclass(frozen=True)
class Doc:
    title: str
    body: str
    key: int


def order(q: str, docs: list[Doc], limit: int = 10) -> list[str]:
    return [doc.title for _, doc in rank(parse(q), docs, limit)]


def test_a_title_match_beats_body_matches_and_more_occurrences_beat_fewer() -> None:
    docs = [
        Doc("Body once", "we saw a walrus here", 1),
        Doc("Walrus", "nothing more here about it", 2),
        Doc("Body thrice", "walrus, walrus and WALRUS", 3),
        Doc("Lookalikes", "walruses and a_walrus_b? no: xwalrus", 4),
    ]
    assert order("walrus", docs) == ["Walrus", "Body thrice", "Body once", "Lookalikes"]
    scores = [score for score, _ in rank(parse("walrus"), docs, 10)]
    assert scores[0] > scores[1] > scores[2] > 0
    # Underscores separate tokens, as in both engines: "a_walrus_b" holds the word.
    assert scores[3] > 0


def test_a_phrase_counts_only_its_words_in_order() -> None:
    docs = [
        Doc("Apart", "red then a kite", 1),
        Doc("Together", "a red-kite here", 2),
    ]
    ranked = rank(parse('"red kite"'), docs, 10)
    assert [doc.title for _, doc in ranked] == ["Together", "Apart"]
    assert ranked[0][0] > 0 and ranked[1][0] == 0


def test_a_rarer_word_weighs_more_and_equal_scores_go_to_the_newer() -> None:
    docs = [Doc(f"D{i}", "common word" + (" rare" if i == 0 else ""), i) for i in range(5)]
    docs.append(Doc("D9", "common word", 9))
    assert order("common OR rare", docs)[0] == "D0"
    assert order("common", docs) == ["D9", "D4", "D3", "D2", "D1", "D0"]
    assert order("common", docs, limit=2) == ["D9", "D4"]
    assert rank(parse("common"), [], 5) == []
