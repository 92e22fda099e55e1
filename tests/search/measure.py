"""Measure search latency on a seeded corpus, by hand (not collected by pytest):

    python -m tests.search.measure --docs 100000 --backend sqlite|postgres

Seeds a fresh database (a temporary SQLite file, or a PostgreSQL database made and dropped here),
then times each class of query through the service layer, as a request would run it (one unit of
work per search), and one class once more through HTTP. Prints p50/p95 per class. `--keep`
leaves the database in place and prints its URL; `--url` measures such a database again.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cowrite.app import create_app
from cowrite.db import unit_of_work
from cowrite.models import Document, User
from cowrite.search import service
from cowrite.search.seeding import WordSource, seed_documents
from tests.conftest import make_settings
from tests.support.databases import TestDatabase, create_database, drop_database
from tests.support.factories import PASSWORD, UserCtx, login, make_user
from tests.support.workspaces import make_workspace

EMAIL = "measure@example.com"
TRASHED_SHARE = 0.01


@dataclass(frozen=True)
class QueryClass:
    name: str
    make: Callable[[random.Random], str]


def query_classes(source: WordSource) -> list[QueryClass]:
    """Words picked by their rank in the seeding vocabulary (rank 1 is the most frequent)."""
    vocabulary = source.vocabulary

    def ranked(low: int, high: int) -> Callable[[random.Random], str]:
        return lambda rng: vocabulary[rng.randrange(low, high)]

    rare, medium = ranked(15_000, len(vocabulary)), ranked(3_000, 8_000)
    fairly_common, very_common = ranked(30, 120), ranked(0, 8)
    return [
        QueryClass("rare word", rare),
        QueryClass("medium word", medium),
        QueryClass("two words", lambda rng: f"{medium(rng)} {fairly_common(rng)}"),
        QueryClass("fairly common word", fairly_common),
        QueryClass("very common word", very_common),
        QueryClass("common phrase", lambda rng: f'"{ranked(0, 30)(rng)} {ranked(0, 30)(rng)}"'),
        QueryClass("common -exclusion", lambda rng: f"{very_common(rng)} -{fairly_common(rng)}"),
        QueryClass("common OR common", lambda rng: f"{fairly_common(rng)} OR {very_common(rng)}"),
    ]


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


async def timed(call: Callable[[], Awaitable[int]], runs: int) -> tuple[list[float], list[int]]:
    samples, counts = [], []
    for _ in range(runs):
        started = time.perf_counter()
        counts.append(await call())
        samples.append((time.perf_counter() - started) * 1000)
    return samples, counts


async def prepare(
    client: httpx.AsyncClient, factory: async_sessionmaker[AsyncSession], docs: int
) -> UserCtx:
    """The measuring user with two workspaces of its own, and a stranger's third workspace."""
    me = await make_user(client, email=EMAIL)
    stranger = await make_user(client)
    mine = [uuid.UUID((await make_workspace(client, me))["id"]) for _ in range(2)]
    theirs = uuid.UUID((await make_workspace(client, stranger))["id"])
    started = time.perf_counter()
    await seed_documents(factory, [*mine, theirs], me.id, docs)
    async with unit_of_work(factory) as session:
        ids = list(await session.scalars(select(Document.id)))
        trashed = random.Random(1).sample(ids, int(len(ids) * TRASHED_SHARE))
        await session.execute(
            update(Document).where(Document.id.in_(trashed)).values(deleted_at=func.now())
        )
    async with factory() as session:
        await session.execute(text("ANALYZE"))
        await session.commit()
    print(f"seeded {docs} documents in {time.perf_counter() - started:.0f} s")
    return me


async def measure(url: str, docs: int, runs: int, seed_needed: bool, workdir: Path) -> None:
    app = create_app(make_settings(url, workdir / "data"))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://cowrite.test") as client:
            factory = app.state.cowrite.session_factory
            if seed_needed:
                me = await prepare(client, factory, docs)
                user_id = me.id
            else:
                async with factory() as session:
                    user_id = (
                        await session.scalars(select(User.id).where(User.email == EMAIL))
                    ).one()
            tokens = await login(client, EMAIL, PASSWORD)
            headers = {"Authorization": f"Bearer {tokens['access_token']}"}

            rng = random.Random(7)
            print(f"{'query class':<22} {'p50 ms':>8} {'p95 ms':>8} {'hits':>6}")
            classes = query_classes(WordSource())
            for index, kind in enumerate(classes):
                queries = [kind.make(rng) for _ in range(runs)]
                cycle = itertools.cycle(queries)

                async def one(cycle: Iterator[str] = cycle) -> int:
                    q = next(cycle)
                    async with unit_of_work(factory) as session:
                        found = await service.search(
                            session, user_id, q, workspace_id=None, tag=None, limit=50
                        )
                    return len(found.items)

                await timed(one, 3)  # warm up
                samples, counts = await timed(one, runs)
                p50, p95 = percentiles(samples)
                print(f"{kind.name:<22} {p50:8.1f} {p95:8.1f} {statistics.median(counts):6.0f}")
                if index == 3:
                    http_queries = queries

            async def over_http() -> int:
                q = rng.choice(http_queries)
                response = await client.get("/api/v1/search", params={"q": q}, headers=headers)
                response.raise_for_status()
                return len(response.json()["items"])

            await timed(over_http, 3)
            samples, counts = await timed(over_http, runs)
            p50, p95 = percentiles(samples)
            label = f"HTTP {classes[3].name}"
            print(f"{label:<22} {p50:8.1f} {p95:8.1f} {statistics.median(counts):6.0f}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--runs", type=int, default=40, help="searches per query class")
    parser.add_argument("--keep", action="store_true", help="leave the seeded database")
    parser.add_argument("--url", help="measure an already seeded database (from --keep)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cowrite-measure-") as scratch:
        workdir = Path(scratch)
        if args.url:
            await measure(args.url, args.docs, args.runs, False, workdir)
            return
        keep_dir = Path(tempfile.mkdtemp(prefix="cowrite-measure-db-")) if args.keep else workdir
        database: TestDatabase = await create_database(args.backend, keep_dir)
        try:
            await measure(database.url, args.docs, args.runs, True, workdir)
        finally:
            if args.keep:
                print(f"kept: --url {database.url}")
            else:
                await drop_database(database)


if __name__ == "__main__":
    asyncio.run(main())
