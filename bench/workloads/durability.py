"""Workload 4: durability lag — from an edit's arrival to its being readable back as committed."""

from __future__ import annotations

import re
import urllib.request
from typing import Any

from bench.procs import BenchError, PhaseSampler, run_node_load
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


def measure(target: Cowrite, duration: float) -> dict[str, Any]:
    with target:
        room = target.new_room()
        config = {
            "base": target.yjs_base,
            "room": room,
            "params": target.params,
            "rate": RATE,
            "duration": duration,
            "grace": 5,
            "pollMs": POLL_MS,
            "token": target.api.token,
            "restUrl": f"{target.http_base}/api/v1/documents/{room}",
        }
        sampler = PhaseSampler(target.pids)
        report = run_node_load("durability.cjs", config, timeout=duration + 120, on_phase=sampler)
        report["server_cpu_pct"] = sampler.cpu_pct
        report["server_histogram_ms"] = server_histogram(target)
    return report


def cell(report: dict[str, Any]) -> str:
    lat = report["latency_ms"]
    if lat["p99"] is None:
        return "never readable back"
    missing = report["sent"] - report["persisted"]
    gap = f" · {missing} never seen" if missing else ""
    hist = report.get("server_histogram_ms")
    own = f" · server histogram p99 ≤ {hist['p99']:g} ms" if hist else ""
    return f"p99 {lat['p99']:,.0f} · p50 {lat['p50']:,.0f} ms{gap}{own}"


def run(ctx: Context) -> Outcome:
    duration = 3.0 if ctx.quick else 10.0
    row = Row(
        "4 durability lag",
        f"{RATE} edits/s, REST polled every {POLL_MS} ms",
        budget="cowrite p99 ≤ 100 ms",
    )
    raw: dict[str, Any] = {}
    met: dict[str, bool | None] = {}
    for target in [Cowrite(ctx.logs, "sqlite"), Cowrite(ctx.logs, "postgres")]:
        if not ctx.wanted(target):
            continue
        reason = skip_reason(target, "yjs")
        if reason:
            row.values[target.name] = reason
            continue
        try:
            report = measure(target, duration)
        except BenchError as exc:
            row.values[target.name] = f"error: {str(exc)[:60]}"
            continue
        raw[target.name] = report
        row.values[target.name] = cell(report)
        p99 = report["latency_ms"]["p99"]
        met[target.name] = (
            p99 is not None and p99 <= P99_BUDGET_MS and report["persisted"] == report["sent"]
        )
    row.verdict = verdict(met)
    return Outcome(rows=[row], raw=raw)
