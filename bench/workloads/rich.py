"""Workload: rich-text documents. Converting a 100 KB rich document (in-process, on the load
core) and a REST PATCH of one paragraph in one, beside the same PATCH on a Markdown document.
The rich PATCH runs twice in the same run: on a server that keeps REST-written rich documents
loaded (the default) and on one that does not (`COWRITE_RICH_WARM_DOCUMENTS=0`, as before)."""

from __future__ import annotations

import random
import statistics
import time
from typing import Any

from pycrdt import Doc, XmlElement, XmlFragment, XmlText

from bench.procs import BenchError
from bench.report import BASELINE, Row, fmt_count
from bench.servers import Cowrite
from bench.workloads import Context, Outcome, coedit
from bench.workloads.common import skip_reason, verdict
from cowrite.collab.formats import RichBody
from cowrite.richtext.fragment import to_json, write_document
from cowrite.richtext.html import document_html
from cowrite.richtext.markdown import to_markdown
from cowrite.richtext.schema import Limits, check_document

TARGET_BYTES = 100 * 1024
WORDS = [
    "merge",
    "document",
    "editor",
    "cursor",
    "paragraph",
    "heading",
    "server",
    "client",
    "update",
    "history",
    "version",
    "search",
    "comment",
    "share",
    "export",
    "import",
    "schema",
    "block",
    "list",
    "quote",
    "code",
    "image",
    "link",
    "team",
]


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words))


def _paragraph(rng: random.Random, label: str = "") -> dict[str, Any]:
    content: list[dict[str, Any]] = [{"type": "text", "text": label + _text(rng, 12) + " "}]
    content.append({"type": "text", "text": _text(rng, 3), "marks": [{"type": "bold"}]})
    content.append({"type": "text", "text": " " + _text(rng, 8) + " "})
    link = {"type": "link", "attrs": {"href": "https://example.com/" + rng.choice(WORDS)}}
    content.append({"type": "text", "text": _text(rng, 2), "marks": [link]})
    content.append({"type": "text", "text": ". " + _text(rng, 10) + "."})
    return {"type": "paragraph", "content": content}


def document(size: int = TARGET_BYTES, seed: int = 26) -> dict[str, Any]:
    """A realistic rich document of about `size` bytes of Markdown: sections of a heading,
    paragraphs, a list, a task list and a code block."""
    rng = random.Random(seed)
    blocks: list[dict[str, Any]] = []
    section = 0
    while len(to_markdown({"type": "doc", "content": blocks})) < size:
        section += 1
        blocks.append(
            {
                "type": "heading",
                "attrs": {"level": 2},
                "content": [{"type": "text", "text": f"Section {section}"}],
            }
        )
        blocks.extend(_paragraph(rng, f"P{section}.{n} ") for n in range(4))
        items = [{"type": "listItem", "content": [_paragraph(rng)]} for _ in range(3)]
        blocks.append({"type": "bulletList", "content": items})
        tasks = [
            {"type": "taskItem", "attrs": {"checked": n == 0}, "content": [_paragraph(rng)]}
            for n in range(2)
        ]
        blocks.append({"type": "taskList", "content": tasks})
        code = {"type": "text", "text": "def f(x):\n    return x * 2\n" * 3}
        blocks.append({"type": "codeBlock", "attrs": {"language": "python"}, "content": [code]})
    return check_document({"type": "doc", "content": blocks})


def _ms(samples: list[float]) -> str:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return f"p50 {cuts[49] * 1000:.1f} ms · p95 {cuts[94] * 1000:.1f} ms"


def conversion(rounds: int) -> dict[str, Any]:
    tree = document()
    doc: Doc = Doc()
    fragment = doc.get("default", type=XmlFragment)
    write_document(fragment, tree)
    markdown = to_markdown(to_json(fragment))
    timings: dict[str, list[float]] = {"to_json": [], "markdown": [], "html": []}
    for _ in range(rounds):
        start = time.perf_counter()
        as_json = to_json(fragment)
        middle = time.perf_counter()
        to_markdown(as_json)
        end = time.perf_counter()
        document_html(as_json)
        timings["to_json"].append(middle - start)
        timings["markdown"].append(end - start)
        timings["html"].append(time.perf_counter() - end)
    # A live room remembers the blocks it read: after an edit only the edited block is read.
    body = RichBody(Limits())
    live: Doc = Doc()
    body.watch(live)
    write_document(body.fragment(live), tree)
    body.markdown(live)
    timings["live"] = []
    for n in range(rounds):
        paragraph = body.fragment(live).children[1 + n % 4]
        assert isinstance(paragraph, XmlElement)
        typed = paragraph.children[0]
        assert isinstance(typed, XmlText)
        typed.insert(0, "x")
        start = time.perf_counter()
        body.markdown(live)
        timings["live"].append(time.perf_counter() - start)
    return {"markdown_bytes": len(markdown.encode()), "blocks": len(tree["content"]), **timings}


def patches(api: Any, workspace_id: str, rounds: int, rich: bool) -> list[float]:
    """Latency of PATCHes that each change one paragraph of a 100 KB document."""
    tree = document()
    markdown = to_markdown(tree)
    body: dict[str, Any] = {"title": "bench rich", "content": markdown}
    if rich:
        body["format"] = "rich"
    path = f"/api/v1/workspaces/{workspace_id}/documents"
    created = api.call("POST", path, body, expect=201)
    url = f"/api/v1/documents/{created['id']}"
    content = str(created["content"])
    marker = "P7.2 "
    if marker not in content:
        raise BenchError("the bench document lacks its marker paragraph")
    samples: list[float] = []
    for n in range(rounds):
        changed = content.replace(marker, f"{marker}edit {n} ", 1)
        start = time.perf_counter()
        answer = api.call("PATCH", url, {"content": changed})
        samples.append(time.perf_counter() - start)
        content = str(answer["content"])
        marker = f"{marker}edit {n} "
    return samples


# Low rungs first: on a shared machine a ladder that starts at 20 k/s may have no number at all.
CAPACITY_STEPS = [(5, 20), (10, 50), (20, 100), (20, 200), (40, 200), (40, 400)]
CAPACITY_WITHIN = 0.2  # rich capacity within 20 % of Markdown's


def capacities(ctx: Context, target: Cowrite) -> dict[bool, tuple[float, list[str]]]:
    """The co-editing ladder (workload 1's steps) on a rich document and on a Markdown one,
    taken in turns step by step (a shared machine's changing load falls on both alike): for
    each (keyed by `rich`), the best deliveries/s with p99 ≤ 100 ms and no loss, and the cells.
    A ladder stops at its first failing step."""
    steps = [coedit.Step(r, n) for r, n in (coedit.QUICK_STEPS if ctx.quick else CAPACITY_STEPS)]
    duration = 2.0 if ctx.quick else 8.0
    best = {True: 0.0, False: 0.0}
    cells: dict[bool, list[str]] = {True: [], False: []}
    climbing = {True, False}
    for step in steps:
        for rich in (True, False):
            if rich not in climbing:
                continue
            try:
                report = coedit.run_step(target, step, duration, rich=rich)
            except BenchError as exc:
                cells[rich].append(f"{step.label}: error {str(exc)[:40]}")
                climbing.discard(rich)
                continue
            cells[rich].append(f"{step.label}: {coedit.cell(report)}")
            if coedit.passed(report):
                best[rich] = max(best[rich], coedit.deliveries_per_s(report))
            else:
                climbing.discard(rich)
    return {rich: (best[rich], cells[rich]) for rich in (True, False)}


def _capacity_cell(best: float, cells: list[str]) -> str:
    """The capacity and the steps behind it (each with its latency and the server's CPU)."""
    found = f"{fmt_count(best)} deliveries/s" if best else "below the first step"
    return f"{found} ({'; '.join(cells)})"


def run(ctx: Context) -> Outcome:
    rounds = 10 if ctx.quick else 40
    convert = Row(
        "rich text",
        "100 KB rich document -> Markdown (fragment -> JSON -> Markdown)",
        budget="≤ 10 ms",
    )
    rich_row = Row(
        "rich text", "REST PATCH of one paragraph, 100 KB rich document", budget="≤ 20 ms p95"
    )
    cold_row = Row(
        "rich text",
        "same rich PATCH, written documents not kept loaded (COWRITE_RICH_WARM_DOCUMENTS=0)",
    )
    plain_row = Row("rich text", "same PATCH, 100 KB Markdown document (reference)")
    raw: dict[str, Any] = {}
    result = conversion(rounds)
    raw["conversion"] = result
    convert.values[BASELINE] = (
        f"{_ms(result['markdown'])} ({result['markdown_bytes'] // 1024} KB, {result['blocks']} "
        f"blocks; JSON alone {_ms(result['to_json'])}; HTML {_ms(result['html'])}); "
        f"in a live room after a one-paragraph edit: {_ms(result['live'])}"
    )
    for target in ctx.cowrites():
        if not ctx.wanted(target):
            continue
        reason = skip_reason(target, "rest")
        if reason:
            rich_row.values[target.name] = plain_row.values[target.name] = reason
            continue
        try:
            with target:
                rich = patches(target.api, target.workspace_id, rounds * 2, rich=True)
                plain = patches(target.api, target.workspace_id, rounds * 2, rich=False)
        except BenchError as exc:
            rich_row.values[target.name] = f"error: {str(exc)[:60]}"
            continue
        # The same on a server that reads the whole stored document for every write.
        cold_target = Cowrite(
            ctx.logs, target.backend, settings={"COWRITE_RICH_WARM_DOCUMENTS": "0"}, variant="-cold"
        )
        try:
            with cold_target:
                cold = patches(cold_target.api, cold_target.workspace_id, rounds * 2, rich=True)
        except BenchError as exc:
            cold_row.values[target.name] = f"error: {str(exc)[:60]}"
            cold = []
        raw[target.name] = {"rich": rich, "markdown": plain, "rich_not_kept": cold}
        rich_row.values[target.name] = _ms(rich)
        if cold:
            cold_row.values[target.name] = _ms(cold)
        plain_row.values[target.name] = _ms(plain)
    rich_capacity = Row(
        "rich text",
        "co-editing capacity, rich document (each writer in its own paragraph)",
        budget="within 20 % of Markdown",
    )
    plain_capacity = Row("rich text", "co-editing capacity, Markdown document (same run)")
    met: dict[str, bool | None] = {}
    for target in ctx.cowrites():
        if not ctx.wanted(target) or skip_reason(target, "yjs"):
            continue
        ladders = capacities(ctx, target)
        (rich_best, rich_cells), (plain_best, plain_cells) = ladders[True], ladders[False]
        raw.setdefault(target.name, {})["capacity"] = {"rich": rich_cells, "markdown": plain_cells}
        rich_capacity.values[target.name] = _capacity_cell(rich_best, rich_cells)
        plain_capacity.values[target.name] = _capacity_cell(plain_best, plain_cells)
        # Without a Markdown number there is nothing to compare with.
        met[target.name] = rich_best >= (1 - CAPACITY_WITHIN) * plain_best if plain_best else None
    rich_capacity.verdict = verdict(met)
    rows = [convert, rich_row, cold_row, plain_row, rich_capacity, plain_capacity]
    return Outcome(rows=rows, raw=raw)
