"""Workload 4: durability lag — from an edit being typed to its row in the database (and REST)."""

from __future__ import annotations

import re
import statistics
import urllib.request
from pathlib import Path
from typing import Any

from bench.dbpoll import UpdateLogWatcher
from bench.procs import BenchError, run_node_load
from bench.report import Row
from bench.servers import Cowrite
from bench.workloads import Context, Outcome
from bench.workloads.common import skip_reason, verdict

P99_BUDGET_MS = 100.0
RATE = 20
POLL_MS = 10
HISTOGRAM = "cowrite_yjs_commit_lag_seconds"


def histogram_quantiles(metrics: str, name: str) -> dict[str, float] | None:
    """p50/p99 (upper bucket bounds, ms) of a Prometheus histogram, summed over its labels."""
    buckets: dict[float, float] = {}
    for match in re.finditer(rf'^{name}_bucket{{[^}}]*le="([^"]+)"[^}}]*}} (\S+)$', metrics, re.M):
        bound = float("inf") if match.group(1) == "+Inf" else float(match.group(1))
        buckets[bound] = buckets.get(bound, 0.0) + float(match.group(2))
    if not buckets or buckets.get(float("inf"), 0.0) == 0:
        return None
    total = buckets[float("inf")]
    out = {}
    for q in (0.5, 0.99):
        bound = next(b for b in sorted(buckets) if buckets[b] >= q * total)
        out[f"p{int(q * 100)}"] = bound * 1000
    return out


def server_histogram(target: Cowrite) -> dict[str, float] | None:
    try:
        with urllib.request.urlopen(f"{target.http_base}/metrics", timeout=10) as resp:
            return histogram_quantiles(resp.read().decode(), HISTOGRAM)
    except OSError:
        return None


def watcher_for(target: Cowrite) -> UpdateLogWatcher:
    if target.backend == "sqlite":
        assert target.data_dir is not None
        return UpdateLogWatcher(sqlite_path=Path(target.data_dir) / "cowrite.db")
    return UpdateLogWatcher(pg_dsn=f"postgresql://postgres@127.0.0.1:5432/{target.database}")


def measure(
    target: Cowrite, duration: float, *, rest_elsewhere: bool = False, rich: bool = False
) -> dict[str, Any]:
    """One writer types (into a rich document's paragraph with `rich`); REST is polled on the
    same process, or with `rest_elsewhere` on a second process over the same database that does
    not have the room open."""
    with target:
        room = target.new_room("rich" if rich else "markdown")
        rest_base = target.http_base
        if rest_elsewhere:
            rest_base = f"http://127.0.0.1:{target.start_second()}"
        config = {
            "base": target.yjs_base,
            "room": room,
            "params": target.params,
            "rate": RATE,
            "duration": duration,
            "grace": 5,
            "pollMs": POLL_MS,
            "token": target.api.token,
            "restUrl": f"{rest_base}/api/v1/documents/{room}",
            "rich": rich,
        }
        watcher = watcher_for(target)

        def on_phase(name: str) -> None:
            if name == "start":
                watcher.start()

        try:
            report = run_node_load(
                "durability.cjs", config, timeout=duration + 120, on_phase=on_phase
            )
        finally:
            watcher.stop()
        report["server_histogram_ms"] = server_histogram(target)
    sent: list[float] = report.pop("sent_at_ms")
    lags = [watcher.seen_ms[i] - t for i, t in enumerate(sent) if i in watcher.seen_ms]
    report["db"] = {
        "seen": len(lags),
        "polls": watcher.polls,
        "error": watcher.error,
        "latency_ms": summarize(lags),
    }
    return report


def summarize(samples: list[float]) -> dict[str, float | None]:
    if len(samples) < 2:
        return {"p50": samples[0] if samples else None, "p99": samples[0] if samples else None}
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return {"p50": cuts[49], "p99": cuts[98]}


def lag_cell(latency: dict[str, Any], seen: int, sent: int, extra: str = "") -> str:
    if latency["p99"] is None:
        return "never seen"
    gap = f" · {sent - seen} never seen" if seen < sent else ""
    return f"p99 {latency['p99']:,.0f} · p50 {latency['p50']:,.0f} ms{gap}{extra}"


def run(ctx: Context) -> Outcome:
    duration = 2.0 if ctx.quick else 10.0
    db_row = Row(
        "4 durability lag",
        f"{RATE} edits/s: edit → in the update log (database polled every 5 ms)",
        budget="cowrite p99 ≤ 100 ms",
    )
    rest_row = Row(
        "4 durability lag",
        f"same edits: edit → in REST content (polled every {POLL_MS} ms)",
        budget="p99 ≤ 100 ms",
    )
    elsewhere_row = Row(
        "4 durability lag",
        "same edits: edit → in REST content of a second process (room not open there)",
        budget="p99 ≤ 100 ms",
    )
    rich_row = Row(
        "4 durability lag",
        "same edits in a rich document's paragraph: edit → in REST content (Markdown)",
        budget="p99 ≤ 100 ms",
    )
    rich_elsewhere_row = Row(
        "4 durability lag",
        "same edits in a rich document: edit → in REST content of a second process",
        budget="p99 ≤ 100 ms",
    )
    rest_rows = [rest_row, elsewhere_row, rich_row, rich_elsewhere_row]
    raw: dict[str, Any] = {}
    met: dict[str, bool | None] = {}
    rest_met: dict[str, dict[str, bool | None]] = {row.case: {} for row in rest_rows}
    for target in ctx.cowrites(both=True):
        if not ctx.wanted(target):
            continue
        reason = skip_reason(target, "yjs")
        if not reason and not UpdateLogWatcher.available(target.backend):
            reason = "n/a (no database driver)"
        if reason:
            for row in [db_row, *rest_rows]:
                row.values[target.name] = reason
            continue
        try:
            report = measure(target, duration)
        except BenchError as exc:
            db_row.values[target.name] = f"error: {str(exc)[:60]}"
            continue
        raw[target.name] = report
        db = report["db"]
        hist = report.get("server_histogram_ms")
        own = f" · server histogram p99 ≤ {hist['p99']:g} ms" if hist else ""
        err = f" · poll error: {db['error'][:40]}" if db["error"] else ""
        db_row.values[target.name] = lag_cell(
            db["latency_ms"], db["seen"], report["sent"], own + err
        )
        p99 = db["latency_ms"]["p99"]
        met[target.name] = p99 is not None and p99 <= P99_BUDGET_MS and db["seen"] == report["sent"]
        rest_row.values[target.name] = lag_cell(
            report["latency_ms"], report["persisted"], report["sent"]
        )
        rest_met[rest_row.case][target.name] = rest_ok(report)
        variants = [
            (elsewhere_row, "REST on a second process", True, False),
            (rich_row, "rich document", False, True),
            (rich_elsewhere_row, "rich document, REST on a second process", True, True),
        ]
        for row, label, elsewhere, rich in variants:
            try:
                other = measure(target, duration, rest_elsewhere=elsewhere, rich=rich)
            except BenchError as exc:
                row.values[target.name] = f"error: {str(exc)[:60]}"
                continue
            raw[f"{target.name} ({label})"] = other
            row.values[target.name] = lag_cell(
                other["latency_ms"], other["persisted"], other["sent"]
            )
            rest_met[row.case][target.name] = rest_ok(other)
    db_row.verdict = verdict(met)
    for row in rest_rows:
        row.verdict = verdict(rest_met[row.case])
    return Outcome(rows=[db_row, *rest_rows], raw=raw)


def rest_ok(report: dict[str, Any]) -> bool:
    p99 = report["latency_ms"]["p99"]
    return p99 is not None and p99 <= P99_BUDGET_MS and report["persisted"] == report["sent"]
