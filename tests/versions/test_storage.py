"""Versions are stored compactly (whole copies now and then, deltas between), rebuilt exactly."""

from __future__ import annotations

import itertools
import random
import uuid

import pytest
from fastapi import FastAPI

from cowrite.db import unit_of_work
from cowrite.kit.errors import NotFound
from cowrite.models import Document
from cowrite.versions import codec, repository, service
from tests.support.workspaces import Team


def _vocabulary(size: int) -> list[str]:
    rng = random.Random(1)
    letters = "etaoinshrdlucmfwypvbgkjqxz"
    weights = [12, 9, 8, 8, 7, 7, 6, 6, 6, 4, 4, 3, 3, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1]
    return ["".join(rng.choices(letters, weights, k=rng.randint(2, 10))) for _ in range(size)]


# A few thousand made-up words, used with a Zipf-like skew: compresses about as well as prose.
VOCABULARY = _vocabulary(3000)
ZIPF = list(itertools.accumulate(1 / rank for rank in range(1, len(VOCABULARY) + 1)))


class Words:
    def choice(self, rng: random.Random) -> str:
        return rng.choices(VOCABULARY, cum_weights=ZIPF)[0]


WORDS = Words()


def sample_text(rng: random.Random, size: int) -> str:
    lines = []
    total = 0
    while total < size:
        line = " ".join(WORDS.choice(rng) for _ in range(rng.randint(4, 14))) + "\n"
        lines.append(line)
        total += len(line)
    return "".join(lines)


def small_edit(rng: random.Random, text: str) -> str:
    """Replace, insert or delete a word somewhere, as a person typing would."""
    position = rng.randrange(len(text))
    start = text.rfind(" ", 0, position) + 1
    end = text.find(" ", position)
    end = len(text) if end == -1 else end
    choice = rng.random()
    if choice < 0.5:
        return text[:start] + WORDS.choice(rng) + text[end:]
    if choice < 0.8:
        return text[:start] + WORDS.choice(rng) + " " + text[start:]
    return text[:start] + text[end + 1 :]


def random_edit(rng: random.Random, text: str) -> str:
    lines = text.splitlines(keepends=True)
    action = rng.randrange(6)
    at = rng.randint(0, len(lines))
    if action == 0:
        return ""
    if action == 1:
        lines[at:at] = [rng.choice(["new line\n", "\r\n", "x", "tab\tline\r", "ünïcode ✓\n"])]
    elif action == 2 and lines:
        del lines[at : at + rng.randint(1, 3)]
    elif action == 3 and lines:
        lines = lines[::-1]
    elif action == 4:
        return text.rstrip("\n")
    else:
        return small_edit(rng, text) if text else "seed\n"
    return "".join(lines)


def test_every_encoded_version_rebuilds_exactly() -> None:
    rng = random.Random(7)
    text = sample_text(rng, 3000)
    previous: str | None = None
    chain: list[codec.EncodedText] = []
    expected: list[str] = []
    for number in range(1, 400):
        chain.append(codec.encode(number, text, previous))
        expected.append(text)
        previous, text = text, random_edit(rng, text)
    rebuilt = ""
    for encoded, want in zip(chain, expected, strict=True):
        if encoded.kind == codec.FULL:
            rebuilt = codec.decode_full(encoded.body)
        else:
            rebuilt = codec.apply_delta(rebuilt, encoded.body)
        assert rebuilt == want
    assert {encoded.kind for encoded in chain} == {codec.FULL, codec.DELTA}


def test_ten_thousand_small_edits_to_a_100_kb_document_stay_small() -> None:
    """The history of 10,000 edits (no folding) to a 100 KB text: raw it would be ~1 GB."""
    rng = random.Random(11)
    text = sample_text(rng, 100 * 1024)
    previous: str | None = None
    stored = 0
    raw = 0
    for number in range(1, 10_001):
        stored += len(codec.encode(number, text, previous).body)
        raw += len(text.encode())
        previous, text = text, small_edit(rng, text)
    print(f"\n10,000 versions of a 100 KB text: {stored:,} bytes stored, {raw:,} bytes raw")
    assert raw > 900_000_000
    assert stored < 16 * 1024 * 1024


async def test_recorded_versions_rebuild_from_the_database(app: FastAPI, team: Team) -> None:
    rng = random.Random(3)
    texts = [sample_text(rng, 100 * 1024)]
    for _ in range(80):
        texts.append(small_edit(rng, texts[-1]))
    factory = app.state.cowrite.session_factory
    async with unit_of_work(factory) as session:
        document = Document(
            workspace_id=uuid.UUID(team.workspace_id), title="Big", content=texts[0]
        )
        session.add(document)
        await session.flush()
        document_id = document.id
        for text in texts:
            document.content = text
            await service.record_version(session, document, team.editor.id, fold_seconds=0)
    async with unit_of_work(factory) as session:
        for number in (1, 2, 50, 51, 52, 80, 81):
            assert await service.version_text(session, document_id, number) == texts[number - 1]
        stored = await repository.stored_bytes(session, document_id)
        # Two whole copies (versions 1 and 51) and small deltas: far below one raw copy each.
        assert stored < 2 * 100 * 1024
        latest = await repository.latest(session, document_id)
        assert latest is not None
        assert latest.number == 81
        with pytest.raises(NotFound):
            await service.version_text(session, uuid.uuid4(), 1)
