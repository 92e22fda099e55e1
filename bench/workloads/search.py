"""Workload 8: full-text search latency over many realistic documents, beside a LIKE scan."""

from __future__ import annotations

import collections
import gzip
import json
import re
import sqlite3
import statistics
import subprocess
import time
import urllib.parse
from pathlib import Path
from typing import Any

from bench import seeding
from bench.procs import BenchError, run_node_load
from bench.report import BASELINE, Row
from bench.servers import PG_ADMIN, Cowrite
from bench.workloads import Context, Outcome
from bench.workloads.common import skip_reason, verdict

CORPUS = "seph-blog1"
BUDGET_P95_MS = 20.0  # every query form together, on each backend
FULL_DOCS = 100_000
QUICK_DOCS = 100
SEED_SECONDS = {True: 60.0, False: 300.0}
STOPWORDS = {
    "with",
    "that",
    "this",
    "have",
    "from",
    "they",
    "which",
    "what",
    "there",
    "their",
    "would",
    "about",
    "when",
    "were",
    "will",
    "your",
    "than",
    "then",
    "into",
    "just",
}


def pick_queries(trace: Path) -> list[str]:
    """Queries over the corpus: common, middling and rare words, pairs, a phrase, -, OR."""
    text = json.loads(gzip.decompress(trace.read_bytes()))["endContent"]
    words = [w.lower() for w in re.findall(r"[A-Za-z]{4,}", text)]
    counts = collections.Counter(w for w in words if w not in STOPWORDS)
    ranked = [w for w, _ in counts.most_common()]
    common, middle, rare = ranked[5], ranked[len(ranked) // 4], ranked[len(ranked) // 2]
    phrase = " ".join(words[len(words) // 3 : len(words) // 3 + 2])
    return [
        common,
        middle,
        rare,
        f"{common} {middle}",
        f'"{phrase}"',
        f"{middle} -{rare}",
        f"{middle} OR {rare}",
    ]


def percentiles(samples: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return cuts[49], cuts[94]


def like_sql(query: str) -> tuple[str, list[str]]:
    """The LIKE scan answering the positive words of a query (operators aside)."""
    words = [w.strip('"') for w in query.split() if not w.startswith("-") and w != "OR"]
    where = " AND ".join("lower(content) LIKE ?" for _ in words)
    sql = f"SELECT id, title FROM documents WHERE {where} ORDER BY updated_at DESC LIMIT 20"
    return sql, [f"%{w}%" for w in words]


def like_sqlite(target: Cowrite, queries: list[str], rounds: int) -> list[float]:
    assert target.data_dir is not None
    files = [
        p for p in Path(target.data_dir).rglob("*") if p.suffix in {".db", ".sqlite", ".sqlite3"}
    ]
    if not files:
        raise BenchError("no SQLite database file in the data dir")
    samples = []
    with sqlite3.connect(files[0]) as db:
        for _ in range(rounds):
            for q in queries:
                sql, args = like_sql(q)
                start = time.perf_counter()
                db.execute(sql, args).fetchall()
                samples.append((time.perf_counter() - start) * 1000)
    return samples


def like_postgres(target: Cowrite, queries: list[str], rounds: int) -> list[float]:
    script = ["\\timing on"]
    for _ in range(rounds):
        for q in queries:
            sql, args = like_sql(q)
            for arg in args:
                sql = sql.replace("?", "'" + arg.replace("'", "''") + "'", 1)
            script.append(sql + ";")
    argv = [*PG_ADMIN[:-1], "-d", target.database, "-f", "-"]
    done = subprocess.run(
        argv, input="\n".join(script), capture_output=True, text=True, timeout=600, check=False
    )
    times = [float(t) for t in re.findall(r"^Time: ([\d.]+) ms", done.stdout, re.M)]
    if not times:
        raise BenchError(f"psql LIKE scan failed: {done.stderr[-200:]}")
    return times


def search_latencies(
    target: Cowrite, queries: list[str], rounds: int
) -> tuple[dict[str, list[float]], dict[str, list[str]]]:
    """Milliseconds per query form, and the titles each form found (best first)."""
    samples: dict[str, list[float]] = {q: [] for q in queries}
    titles: dict[str, list[str]] = {}
    for _ in range(rounds):
        for q in queries:
            params = urllib.parse.urlencode({"q": q, "workspace_id": target.workspace_id})
            start = time.perf_counter()
            found = target.api.call("GET", f"/api/v1/search?{params}")
            samples[q].append((time.perf_counter() - start) * 1000)
            titles[q] = [item["title"] for item in found["items"]]
    return samples, titles


def seed_directly(target: Cowrite, corpus: Path, count: int) -> dict[str, Any]:
    """One document over REST as the template, the rest straight into the database."""
    started = time.monotonic()
    template = target.api.create_document(target.workspace_id, "template", "template")
    pairs = seeding.bodies(seeding.corpus_words(corpus), count - 1)
    if target.backend == "sqlite":
        assert target.data_dir is not None
        made = seeding.seed_sqlite(Path(target.data_dir) / "cowrite.db", template, pairs)
    else:
        dsn = f"postgresql://postgres@127.0.0.1:5432/{target.database}"
        made = seeding.seed_postgres(dsn, template, pairs)
    return {"created": made + 1, "method": "database", "seconds": time.monotonic() - started}


def seed_over_rest(target: Cowrite, corpus: Path, count: int, quick: bool) -> dict[str, Any]:
    config = {
        "http": target.http_base,
        "token": target.api.token,
        "workspace": target.workspace_id,
        "count": count,
        "concurrency": 16,
        "words": str(corpus),
        "seconds": SEED_SECONDS[quick],
    }
    seeded = run_node_load("seed.cjs", config, timeout=SEED_SECONDS[quick] + 120)
    return {**seeded, "method": "REST"}


def measure(ctx: Context, target: Cowrite, queries: list[str], corpus: Path) -> dict[str, Any]:
    count = QUICK_DOCS if ctx.quick else FULL_DOCS
    rounds = 2 if ctx.quick else 20
    with target:
        try:
            seeded = seed_directly(target, corpus, count)
        except Exception as exc:  # any driver or schema surprise: fall back to the API
            seeded = seed_over_rest(target, corpus, count, ctx.quick)
            seeded["direct_error"] = str(exc)[:200]
        per_form, titles = search_latencies(target, queries, rounds)
        like = like_sqlite if target.backend == "sqlite" else like_postgres
        like_samples = like(target, queries, max(1, rounds // 4))
    return {
        "seeded": seeded,
        "search_ms": [ms for q in queries for ms in per_form[q]],
        "hits": sum(len(titles[q]) for q in queries) * rounds,
        "per_form": {
            q: dict(zip(("p50", "p95"), percentiles(per_form[q]), strict=True)) for q in queries
        },
        "titles": titles,
        "like_ms": like_samples,
    }


def run(ctx: Context) -> Outcome:
    corpus = ctx.trace(CORPUS)
    rows: list[Row] = []
    raw: dict[str, Any] = {}
    if corpus is None:
        return Outcome(rows=[Row("8 search", "p50 / p95", {"all": "n/a (corpus not found)"})])
    queries = pick_queries(corpus)
    raw["queries"] = queries
    for target in ctx.cowrites():
        if not ctx.wanted(target):
            continue
        row = Row("8 search", f"{target.name}: p50 / p95 of {len(queries)} query forms")
        rows.append(row)
        reason = skip_reason(target, "search")
        if reason:
            row.values[target.name] = reason
            continue
        try:
            result = measure(ctx, target, queries, corpus)
        except BenchError as exc:
            row.values[target.name] = f"error: {str(exc)[:60]}"
            continue
        raw[target.name] = result
        created = result["seeded"]["created"]
        how = result["seeded"]["method"]
        row.case = (
            f"{created:,} docs of ~2 KB (seeded via {how}): p50 / p95 of {len(queries)} queries"
        )
        p50, p95 = percentiles(result["search_ms"])
        row.values[target.name] = f"{p50:,.1f} / {p95:,.1f} ms ({result['hits']:,} hits)"
        row.budget = f"p95 ≤ {BUDGET_P95_MS:g} ms"
        row.verdict = verdict({target.name: p95 <= BUDGET_P95_MS})
        l50, l95 = percentiles(result["like_ms"])
        row.values[BASELINE] = f"LIKE scan: {l50:,.1f} / {l95:,.1f} ms"
    answers = [raw[name]["titles"] for name in ("cowrite-sqlite", "cowrite-pg") if name in raw]
    if len(answers) == 2:
        # The seeded titles are the same on both backends, so the answers can be compared.
        same = sum(answers[0][q] == answers[1][q] for q in queries)
        same_sets = sum(set(answers[0][q]) == set(answers[1][q]) for q in queries)
        rows.append(
            Row(
                "8 search",
                f"answers of the {len(queries)} query forms alike on both backends",
                {"cowrite-pg": f"as SQLite's: {same} in order, {same_sets} as sets"},
                "every form alike, in order",
                verdict({"cowrite-pg": same == len(queries)}),
            )
        )
    return Outcome(rows=rows, raw=raw)
