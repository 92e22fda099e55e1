"""Helpers over sequences (strings, lists) that know nothing of documents."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")
Opcode = tuple[str, int, int, int, int]


def common_run(old: Sequence[T], new: Sequence[T], limit: int, *, from_end: bool) -> int:
    """Length of the common prefix (or suffix) of two strings or lists within `limit`: slices
    compared in blocks, then in halves of a block, so a large text costs C-speed compares, not
    a Python step per item."""
    count = 0
    block = 4096
    if from_end:

        def same(start: int, length: int) -> bool:
            return (
                old[len(old) - start - length : len(old) - start]
                == new[len(new) - start - length : len(new) - start]
            )

    else:

        def same(start: int, length: int) -> bool:
            return old[start : start + length] == new[start : start + length]

    while count + block <= limit and same(count, block):
        count += block
    step = block // 2
    while step:  # what is left is shorter than a block: add its binary digits
        if count + step <= limit and same(count, step):
            count += step
        step //= 2
    return count


def opcodes(old: Sequence[T], new: Sequence[T]) -> list[Opcode]:
    """`difflib.SequenceMatcher(None, old, new).get_opcodes()` with the common head and tail
    matched first, so two long lists alike but for a few items cost a few compares."""
    limit = min(len(old), len(new))
    head = common_run(old, new, limit, from_end=False)
    tail = common_run(old, new, limit - head, from_end=True)
    codes: list[Opcode] = [("equal", 0, head, 0, head)] if head else []
    matcher = difflib.SequenceMatcher(
        None, old[head : len(old) - tail], new[head : len(new) - tail], autojunk=False
    )
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        codes.append((tag, head + i1, head + i2, head + j1, head + j2))
    if tail:
        codes.append(("equal", len(old) - tail, len(old), len(new) - tail, len(new)))
    return codes
