"""REST writes become small edits: what did not change is not touched."""

from __future__ import annotations

import random

import pytest

from cowrite.collab.textdiff import byte_offsets, text_edits


def _apply(old: str, edits: list[tuple[int, int, str]]) -> str:
    text = old
    for start, length, inserted in edits:  # last edit first, so offsets stay valid
        text = text[:start] + inserted + text[start + length :]
    return text


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("", "hello"),
        ("hello", ""),
        ("hello world", "hello brave world"),
        ("abc", "abc"),
        ("one two three", "one 2 three four"),
        ("ünïcode ✓ text", "ünïcode ✗ text!"),
        ("x" * 5000, "x" * 2500 + "y" + "x" * 2500),
        ("ab" * 9000 + "tail", "ab" * 9000 + "TAIL"),
        ("head" + "ab" * 9000, "HEAD" + "ab" * 9000),
    ],
)
def test_edits_turn_the_old_text_into_the_new(old: str, new: str) -> None:
    assert _apply(old, text_edits(old, new)) == new


def test_edits_stay_small_and_random_rewrites_round_trip() -> None:
    assert text_edits("hello world", "hello brave world") == [(6, 0, "brave ")]
    big = "z" * 100_000
    assert text_edits(big + "a" + big, big + "b" + big) == [(100_000, 1, "b")]
    rng = random.Random(3)
    for _ in range(200):
        old = "".join(rng.choice("ab ✓") for _ in range(rng.randint(0, 40)))
        new = "".join(rng.choice("ab ✓") for _ in range(rng.randint(0, 40)))
        assert _apply(old, text_edits(old, new)) == new


def test_byte_offsets_count_utf8() -> None:
    assert byte_offsets("✓ab", [(1, 1, "X")]) == [(3, 1, "X")]
