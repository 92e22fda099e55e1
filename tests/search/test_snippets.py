"""Snippets, cut from a document's body around the query's words."""

from __future__ import annotations

from cowrite.search.query import parse, wanted_words
from cowrite.search.snippets import SNIPPET_CHARS, Snippets


def cut(query: str, body: str) -> str:
    return Snippets(wanted_words(parse(query))).cut(body)


def test_whole_words_are_marked_whatever_their_case_and_the_rest_escaped() -> None:
    body = "Fish & <chips> with FISHING nets; fish_cake, fish."
    assert cut("fish", body) == (
        "<mark>Fish</mark> &amp; &lt;chips&gt; with FISHING nets; <mark>fish</mark>_cake, "
        "<mark>fish</mark>."
    )


def test_entities_made_by_escaping_are_never_marked() -> None:
    assert cut("amp lt", "a & b < c") == "a &amp; b &lt; c"


def test_the_stretch_with_most_distinct_words_wins_and_keeps_a_few_words_before_it() -> None:
    filler = " ".join(f"w{i}" for i in range(200))
    body = f"{filler} alpha once. {filler} so alpha met beta here. {filler}"
    snippet = cut("alpha beta", body)
    assert snippet.startswith("… w198 w199 so <mark>alpha</mark> met <mark>beta</mark> here.")
    assert snippet.endswith(" …")
    assert len(snippet) <= SNIPPET_CHARS + len("… ") + len(" …") + 4 * len("<mark></mark>")


def test_excluded_words_are_not_marked_and_phrases_mark_their_words() -> None:
    assert cut('"red kite" -owl', "a red kite and an owl") == (
        "a <mark>red</mark> <mark>kite</mark> and an owl"
    )


def test_a_body_without_the_words_shows_its_start() -> None:
    body = "Plain words " * 40
    snippet = cut("title", body)
    assert snippet.startswith("Plain words Plain") and snippet.endswith(" …")
    assert "<mark>" not in snippet
    assert cut("x", "") == ""
    assert cut("x", "just this") == "just this"


def test_letters_that_grow_when_lower_cased_leave_the_body_unmarked_not_mismarked() -> None:
    # "İ" lower-cases to two characters: offsets in the lowered text would drift.
    body = "İİİ then the target word"
    assert cut("target", body) == body
