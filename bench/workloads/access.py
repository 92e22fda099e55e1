"""Workload 16: what the visibility rule costs. Document GET and search p95 for a workspace
editor over 10,000 documents of which 10 % are restricted (the editor listed on half of those),
before the rule and after it, side by side in one run.

"Before" is the code just before the rule existed: the tree of `BENCH_ACCESS_BEFORE` (a git
ref; by default the parent of the commit that added `documents/visibility.py`) served from the
same virtualenv. Both servers hold the same documents and are asked in alternation, so the
machine's load falls on both alike.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from pathlib import Path
from typing import Any

from bench import seeding
from bench.api import CowriteApi
from bench.procs import BenchError, Server
from bench.report import Row
from bench.servers import PG_ADMIN, Cowrite
from bench.workloads import Context, Outcome
from bench.workloads.common import verdict
from bench.workloads.search import CORPUS, percentiles, pick_queries

REPO = Path(__file__).resolve().parents[2]
RULE_FILE = "src/cowrite/documents/visibility.py"
FULL_DOCS, QUICK_DOCS = 10_000, 1_000
RESTRICTED_SHARE = 0.10
BUDGET = 0.10


def before_ref() -> str:
    ref = os.environ.get("BENCH_ACCESS_BEFORE")
    if ref:
        return ref
    added = subprocess.run(
        ["git", "log", "--diff-filter=A", "--format=%H", "--", RULE_FILE],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    if not added:
        raise BenchError(f"no commit adds {RULE_FILE}; set BENCH_ACCESS_BEFORE")
    return f"{added[-1]}^"


def export_tree(ref: str, into: Path) -> Path:
    """The `src/` of `ref`, written under `into`."""
    archive = subprocess.run(
        ["git", "archive", ref, "src"], cwd=REPO, capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into / "src"


class BeforeCowrite(Cowrite):
    """cowrite as it was before the rule: another source tree, the same interpreter."""

    def __init__(self, logs: Path, backend: str, source: Path) -> None:
        super().__init__(logs, backend)
        self.source = source
        self.name = f"{self.name} before"

    def launch(self, port: int) -> Server:
        argv = [sys.executable, "-m", "cowrite", "serve", "--host", "127.0.0.1"]
        env = {**self.environment(), "PYTHONPATH": str(self.source)}
        log = self.logs / f"{self.name.replace(' ', '-')}.log"
        server = Server([*argv, "--port", str(port)], env=env, log=log)
        server.start()
        server.wait_http(f"http://127.0.0.1:{port}/health", timeout=90)
        return server


def _sql(target: Cowrite, statements: list[str]) -> None:
    if target.backend == "sqlite":
        assert target.data_dir is not None
        with sqlite3.connect(Path(target.data_dir) / "cowrite.db", timeout=30) as db:
            for statement in statements:
                db.execute(statement)
        return
    argv = [*PG_ADMIN[:-1], "-d", target.database, "-v", "ON_ERROR_STOP=1", "-c"]
    for statement in statements:
        subprocess.run([*argv, statement], check=True, capture_output=True, timeout=600)


def prepare(target: Cowrite, words: list[str], count: int, *, restrict: bool) -> dict[str, Any]:
    """Seed `count` documents and add an editor; with `restrict`, restrict 10 % of them and
    list the editor on half of those. Returns the editor's API and open document ids."""
    template = target.api.create_document(target.workspace_id, "template", "template")
    pairs = seeding.bodies(words, count - 1)
    if target.backend == "sqlite":
        assert target.data_dir is not None
        seeding.seed_sqlite(Path(target.data_dir) / "cowrite.db", template, pairs)
    else:
        dsn = f"postgresql://postgres@127.0.0.1:5432/{target.database}"
        seeding.seed_postgres(dsn, template, pairs)
    editor = CowriteApi(target.http_base)
    editor.sign_up("editor")
    target.api.add_member(target.workspace_id, editor.email, "editor")
    me = uuid.UUID(editor.call("GET", "/api/v1/users/me")["id"])
    restricted = int(count * RESTRICTED_SHARE)
    if restrict:
        user = me.hex if target.backend == "sqlite" else str(me)
        now = "CURRENT_TIMESTAMP" if target.backend == "sqlite" else "now()"
        _sql(
            target,
            [
                "UPDATE documents SET visibility = 'restricted' WHERE id IN "
                f"(SELECT id FROM documents ORDER BY id LIMIT {restricted})",
                "INSERT INTO document_members (document_id, user_id, role, added_at) "
                f"SELECT id, '{user}', 'viewer', {now} FROM documents "
                f"WHERE visibility = 'restricted' ORDER BY id LIMIT {restricted // 2}",
            ],
        )
    page = editor.call("GET", f"/api/v1/workspaces/{target.workspace_id}/documents?limit=50")
    return {"editor": editor, "documents": [item["id"] for item in page["items"]]}


def _timed(api: CowriteApi, path: str) -> float:
    start = time.perf_counter()
    api.call("GET", path)
    return (time.perf_counter() - start) * 1000


def measure(
    targets: dict[str, Cowrite], prepared: dict[str, Any], queries: list[str], rounds: int
) -> dict[str, Any]:
    samples: dict[str, dict[str, list[float]]] = {n: {"get": [], "search": []} for n in targets}
    for _ in range(rounds):
        for name, target in targets.items():  # alternate: both see the same moment's load
            editor, documents = prepared[name]["editor"], prepared[name]["documents"]
            for document_id in documents:
                samples[name]["get"].append(_timed(editor, f"/api/v1/documents/{document_id}"))
            for query in queries:
                params = urllib.parse.urlencode({"q": query, "workspace_id": target.workspace_id})
                samples[name]["search"].append(_timed(editor, f"/api/v1/search?{params}"))
    return samples


def _cell(before: list[float], after: list[float]) -> tuple[str, bool]:
    b50, b95 = percentiles(before)
    a50, a95 = percentiles(after)
    change = a95 / b95 - 1
    text = f"p95 before {b95:,.1f} ms · after {a95:,.1f} ms ({change:+.0%})"
    text += f"; p50 {b50:,.1f} → {a50:,.1f}"
    return text, change <= BUDGET


def run(ctx: Context) -> Outcome:
    corpus = ctx.trace(CORPUS)
    if corpus is None:
        return Outcome(
            rows=[Row("16 access", "visibility rule", {"all": "n/a (corpus not found)"})]
        )
    words = seeding.corpus_words(corpus)
    queries = pick_queries(corpus)
    count = QUICK_DOCS if ctx.quick else FULL_DOCS
    rounds = 3 if ctx.quick else 12
    case = f"{count:,} docs, {RESTRICTED_SHARE:.0%} restricted; a workspace editor"
    get_row = Row("16 access", f"document GET p95: {case}", budget=f"after ≤ before + {BUDGET:.0%}")
    search_row = Row(
        "16 access", f"search p95 ({len(queries)} query forms): {case}", budget=get_row.budget
    )
    raw: dict[str, Any] = {"queries": queries}
    met_get: dict[str, bool | None] = {}
    met_search: dict[str, bool | None] = {}
    with tempfile.TemporaryDirectory(prefix="cowrite-before-") as tmp:
        ref = before_ref()
        source = export_tree(ref, Path(tmp))
        raw["before"] = ref
        for after in ctx.cowrites():
            if not ctx.wanted(after):
                continue
            before = BeforeCowrite(ctx.logs, after.backend, source)
            try:
                with before, after:
                    prepared = {
                        "before": prepare(before, words, count, restrict=False),
                        "after": prepare(after, words, count, restrict=True),
                    }
                    samples = measure({"before": before, "after": after}, prepared, queries, rounds)
            except (BenchError, subprocess.CalledProcessError) as exc:
                get_row.values[after.name] = search_row.values[after.name] = f"error: {exc}"[:70]
                continue
            raw[after.name] = samples
            get_row.values[after.name], met_get[after.name] = _cell(
                samples["before"]["get"], samples["after"]["get"]
            )
            search_row.values[after.name], met_search[after.name] = _cell(
                samples["before"]["search"], samples["after"]["search"]
            )
    get_row.verdict = verdict(met_get)
    search_row.verdict = verdict(met_search)
    return Outcome(rows=[get_row, search_row], raw=raw)
