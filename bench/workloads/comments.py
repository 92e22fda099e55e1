"""Workload 10: comments on a 100 KB document that 10 Yjs clients are editing: listing 500
threads with their anchors resolved against the live document, and creating a comment."""

from __future__ import annotations

import statistics
import threading
import time
import uuid
from typing import Any

from bench.api import CowriteApi
from bench.procs import BenchError, run_node_load
from bench.report import Row
from bench.servers import Cowrite
from bench.workloads import Context, Outcome
from bench.workloads.common import skip_reason, verdict

THREADS = 500
QUICK_THREADS = 100
AUTHORS = 5  # new comments are limited per user: the threads are spread over a few
WRITERS = 10
RATE = 5  # edits/s per writer
LIST_P95_MS = 50.0
CREATE_P95_MS = 20.0
LINE = "Collaborative editing keeps everyone on the same page, one small change at a time.\n"


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def timed(call: Any) -> float:
    start = time.perf_counter()
    call()
    return (time.perf_counter() - start) * 1000


def coediting(
    target: Cowrite, document_id: str, step: tuple[int, int], duration: float, lister: str | None
) -> dict[str, Any]:
    """One co-editing run on the commented document; with `lister`, a client lists its
    comments 10 times a second meanwhile."""
    rate, listeners = step
    config = {
        "base": target.yjs_base,
        "room": document_id,
        "params": target.params,
        "writers": WRITERS,
        "rate": rate,
        "listeners": listeners,
        "duration": duration,
        "grace": 3,
        "firstAlone": True,
    }
    stop = threading.Event()
    lists: list[float] = []

    def list_often() -> None:
        while lister is not None and not stop.wait(0.1):
            lists.append(timed(lambda: target.api.call("GET", lister)))

    background = threading.Thread(target=list_often)
    background.start()
    try:
        report = run_node_load("coedit.cjs", config, timeout=duration + 120)
    finally:
        stop.set()
        background.join()
    report["lists"] = len(lists)
    return report


def measure(
    target: Cowrite, threads: int, lists: int, creates: int, step: tuple[int, int], duration: float
) -> dict[str, Any]:
    with target:
        content = LINE * (100_000 // len(LINE))
        document_id = target.api.create_document(target.workspace_id, "commented", content)
        authors = [target.api]
        for index in range(AUTHORS - 1):
            api = CowriteApi(target.http_base)
            api.sign_up(f"author{index}")
            target.api.add_member(target.workspace_id, api.email, "commenter")
            authors.append(api)
        path = f"/api/v1/documents/{document_id}/comments"
        spacing = len(content) // threads
        for index in range(threads):
            start = index * spacing
            anchor = {"from": start, "to": start + 20}
            authors[index % AUTHORS].call("POST", path, {"body": "A note", "anchor": anchor}, 201)

        report: dict[str, Any] = {}
        page = f"{path}?limit=200"
        report["coedit_alone"] = coediting(target, document_id, step, duration, None)
        report["coedit_listing"] = coediting(target, document_id, step, duration, page)

        def edit() -> None:
            config = {
                "base": target.yjs_base,
                "room": document_id,
                "params": target.params,
                "writers": WRITERS,
                "rate": RATE,
                "listeners": 0,
                "duration": 2.0 + 0.25 * lists,
                "grace": 2,
                "firstAlone": True,
            }
            try:
                report["load"] = run_node_load("coedit.cjs", config, timeout=180)
            except BenchError as exc:
                report["load_error"] = str(exc)

        editors = threading.Thread(target=edit)
        editors.start()
        time.sleep(2.0)  # the writers join and start typing
        listing = [
            timed(lambda: target.api.call("GET", f"{path}?limit=200&status=all"))
            for _ in range(lists)
        ]

        # The listing pages at 200 (the contract's maximum): time the whole walk as well.
        def walk() -> None:
            cursor = ""
            while True:
                page = target.api.call("GET", f"{path}?limit=200{cursor}")
                if not page["next_cursor"]:
                    return
                cursor = f"&cursor={page['next_cursor']}"

        walks = [timed(walk) for _ in range(max(3, lists // 5))]
        creating = [
            timed(
                lambda i=i: authors[i % AUTHORS].call(
                    "POST",
                    path,
                    {"body": f"New {uuid.uuid4().hex[:6]}", "anchor": {"from": i, "to": i + 5}},
                    201,
                )
            )
            for i in range(creates)
        ]
        editors.join()
    return {"list_ms": listing, "walk_ms": walks, "create_ms": creating, **report}


def run(ctx: Context) -> Outcome:
    threads = QUICK_THREADS if ctx.quick else THREADS
    lists, creates = (10, 20) if ctx.quick else (40, 60)
    list_row = Row(
        "10 comments",
        f"list {threads} threads (200 a page; whole walk), 100 KB doc, {WRITERS}x{RATE} edits/s",
        budget=f"p95 ≤ {LIST_P95_MS:g} ms",
    )
    create_row = Row(
        "10 comments", "create an anchored comment", budget=f"p95 ≤ {CREATE_P95_MS:g} ms"
    )
    step, duration = ((10, 50), 3.0) if ctx.quick else ((20, 200), 8.0)
    nominal = WRITERS * step[0] * step[1]
    coedit_row = Row(
        "10 comments",
        f"co-editing p99 at {WRITERS}x{step[0]}x{step[1]} ({nominal / 1000:g} k/s): alone"
        " → while a client lists 200 threads, 0.1 s apart",
        budget="unchanged within noise",
    )
    raw: dict[str, Any] = {}
    list_met: dict[str, bool | None] = {}
    create_met: dict[str, bool | None] = {}
    for target in ctx.cowrites():
        if not ctx.wanted(target):
            continue
        reason = skip_reason(target, "yjs")
        if reason:
            list_row.values[target.name] = create_row.values[target.name] = reason
            continue
        try:
            result = measure(target, threads, lists, creates, step, duration)
        except BenchError as exc:
            list_row.values[target.name] = create_row.values[target.name] = f"error: {exc}"[:70]
            continue
        alone, listing = result["coedit_alone"], result["coedit_listing"]
        coedit_row.values[target.name] = (
            f"p99 {alone['latency_ms']['p99'] or 0:,.0f} → {listing['latency_ms']['p99'] or 0:,.0f}"
            f" ms · loss {alone['loss']:.2%} → {listing['loss']:.2%}"
            f" · {listing['lists']} lists"
        )
        raw[target.name] = result
        page, walk, create = (
            p95(result["list_ms"]),
            p95(result["walk_ms"]),
            p95(result["create_ms"]),
        )
        edits = "" if "load" in result else " · editing load failed"
        list_row.values[target.name] = (
            f"page p95 {page:,.1f} ms (p50 {statistics.median(result['list_ms']):,.1f}) · "
            f"walk p95 {walk:,.1f} ms{edits}"
        )
        create_row.values[target.name] = (
            f"p95 {create:,.1f} ms (p50 {statistics.median(result['create_ms']):,.1f})"
        )
        list_met[target.name] = walk <= LIST_P95_MS
        create_met[target.name] = create <= CREATE_P95_MS
    list_row.verdict = verdict(list_met)
    create_row.verdict = verdict(create_met)
    return Outcome(rows=[list_row, create_row, coedit_row], raw=raw)
