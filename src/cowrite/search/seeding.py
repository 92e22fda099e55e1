"""Seed many documents of word-like text quickly, for search benchmarks and manual trials.

Words follow a Zipf-like distribution over common English words and a long tail of made-up
ones, so a query has frequent, rare and absent terms to choose from. Rows are bulk-inserted
straight into `documents`; the database's own triggers or generated column index them.
"""

from __future__ import annotations

import itertools
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cowrite.db import unit_of_work
from cowrite.kit.clock import utcnow
from cowrite.models import Document

_COMMON_WORDS = (
    "the of and to in is it that for was on are as with his they at be this from have or by "
    "one had not but what all were when we there can an your which their said if do will each "
    "about how up out them then she many some so these would other into has more her two like "
    "him see time could no make than first been its who now people my made over did down only "
    "way find use may water long little very after words called just where most know get "
    "through back much before go good new write our used me man too any day same right look "
    "think also around another came come work three word must because does part even place well "
    "such here take why things help put years different away again off went old number great "
    "tell men say small every found still between name should home big give air line set own "
    "under read last never us left end along while might next sound below saw something thought "
    "both few those always looked show large often together asked house world going want school "
    "important until form food keep children feet land side without boy once animals life enough "
    "took sometimes four head above kind began almost live page got earth need far hand high "
    "year mother light parts country father let night following picture being study second eyes "
    "soon times story boys since white days ever paper hard near sentence better best across "
    "during today others however sure means knew its try told young miles sun ways thing whole"
)
COMMON = _COMMON_WORDS.split()


@dataclass(frozen=True)
class WordSource:
    """A vocabulary and a skewed way to draw from it."""

    seed: int = 0
    tail_size: int = 30_000

    @cached_property
    def vocabulary(self) -> list[str]:
        rng = random.Random(self.seed)
        letters = "etaoinshrdlucmfwypvbgkjqxz"
        weights = [12, 9, 8, 8, 7, 7, 6, 6, 6, 4, 4, 3, 3, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1]
        tail = {
            "".join(rng.choices(letters, weights, k=rng.randint(3, 11)))
            for _ in range(self.tail_size)
        }
        return list(dict.fromkeys(COMMON)) + sorted(tail - set(COMMON))

    @cached_property
    def _cumulative(self) -> list[float]:
        return list(itertools.accumulate(1 / rank for rank in range(1, len(self.vocabulary) + 1)))

    def words(self, rng: random.Random, count: int) -> list[str]:
        return rng.choices(self.vocabulary, cum_weights=self._cumulative, k=count)

    def text(self, rng: random.Random, size: int) -> str:
        """About `size` characters of sentences and paragraphs."""
        parts: list[str] = []
        total = 0
        while total < size:
            sentence = " ".join(self.words(rng, rng.randint(6, 18)))
            sentence = sentence[0].upper() + sentence[1:] + rng.choice(".....?!")
            parts.append(sentence + ("\n\n" if rng.random() < 0.15 else " "))
            total += len(parts[-1])
        return "".join(parts)

    def title(self, rng: random.Random) -> str:
        return " ".join(self.words(rng, rng.randint(2, 6))).capitalize()


async def seed_documents(
    session_factory: async_sessionmaker[AsyncSession],
    workspace_ids: Sequence[uuid.UUID],
    author_id: uuid.UUID | None,
    count: int,
    *,
    size: int = 2048,
    seed: int = 0,
    batch: int = 1000,
) -> int:
    """Insert `count` documents of about `size` characters, spread over `workspace_ids`."""
    source = WordSource(seed)
    rng = random.Random(seed)
    made = 0
    while made < count:
        rows = []
        now = utcnow()
        for index in range(made, min(count, made + batch)):
            rows.append(
                {
                    "id": uuid.uuid4(),
                    "workspace_id": workspace_ids[index % len(workspace_ids)],
                    "title": source.title(rng),
                    "content": source.text(rng, size),
                    "version": 1,
                    "created_by": author_id,
                    "updated_by": author_id,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        async with unit_of_work(session_factory) as session:
            await session.execute(insert(Document), rows)
        made += len(rows)
    return made
