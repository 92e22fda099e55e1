"""REST writes become small edits: what did not change is not touched."""

from __future__ import annotations

import random

import pytest

from cowrite.collab.textdiff import byte_offsets, rebase_edits, text_edits
from cowrite.kit.sequences import common_run, opcodes


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


def test_common_runs_are_exact_around_block_edges() -> None:
    for size in (0, 1, 4095, 4096, 4097, 10_000):
        same = "q" * size
        assert common_run(same + "a", same + "b", size + 1, from_end=False) == size
        assert common_run("a" + same, "b" + same, size + 1, from_end=True) == size
        assert common_run(same, same, size // 2, from_end=False) == size // 2
    assert common_run([1, 2, 3], [1, 2, 4], 3, from_end=False) == 2


def test_opcodes_match_difflibs_around_a_common_head_and_tail() -> None:
    rng = random.Random(5)
    for _ in range(200):
        old = [rng.choice("abc") for _ in range(rng.randint(0, 12))]
        new = [rng.choice("abc") for _ in range(rng.randint(0, 12))]
        rebuilt = []
        for tag, i1, i2, j1, j2 in opcodes(old, new):
            assert (old[i1:i2] == new[j1:j2]) == (tag == "equal")
            rebuilt.extend(new[j1:j2])
        assert rebuilt == new
    assert opcodes(list("abcdef"), list("abXdef")) == [
        ("equal", 0, 2, 0, 2),
        ("replace", 2, 3, 2, 3),
        ("equal", 3, 6, 3, 6),
    ]


@pytest.mark.parametrize(
    ("base", "new", "live", "merged"),
    [
        # The writer changed one word, someone typed elsewhere meanwhile: both stay.
        ("one two three", "one 2 three", "one two three four", "one 2 three four"),
        ("one two three", "one two 3", "zero one two three", "zero one two 3"),
        # Both inserted at the same place: the live text comes first.
        ("ab", "aXb", "aYb", "aYXb"),
        # Nothing changed live: the write as it is.
        ("abc", "abd", "abc", "abd"),
        # Several edits of the writer's around a live change.
        ("a b c d e", "A b c d E", "a b C d e", "A b C d E"),
        # An edit inside text changed live takes that change in: the writer's words win there.
        ("one two three", "one TWO three", "one twenty-two three", "one TWO three"),
    ],
)
def test_a_writers_edits_land_where_the_text_stands_now(
    base: str, new: str, live: str, merged: str
) -> None:
    assert _apply(live, rebase_edits(base, new, live)) == merged


def test_rebased_random_edits_keep_every_untouched_live_change() -> None:
    rng = random.Random(7)
    for _ in range(300):
        base = "".join(rng.choice("abc ✓") for _ in range(rng.randint(0, 30)))
        new = "".join(rng.choice("abc ✓") for _ in range(rng.randint(0, 30)))
        # Without live changes the writer's text is the result; with the writer changing
        # nothing, the live text is.
        assert _apply(base, rebase_edits(base, new, base)) == new
        live = base[: len(base) // 2] + "LIVE" + base[len(base) // 2 :]
        assert _apply(live, rebase_edits(base, base, live)) == live
        assert "LIVE" in _apply(live, rebase_edits(base, base + "!", live))
