"""Workload 6: memory per idle WebSocket (sent sync step 1, then quiet), by growth of server RSS."""

from __future__ import annotations

import time
import urllib.parse
from typing import Any

from bench.procs import BenchError, rss_bytes, run_node_load
from bench.report import Row
from bench.servers import Cowrite, NodeReference, Target
from bench.workloads import Context, Outcome
from bench.workloads.common import skip_reason, verdict

BUDGET_BYTES = 12 * 1024
BASELINE = 10


def measure(target: Target, stages: list[int], hold: float) -> dict[str, Any]:
    with target:
        room = target.new_room()
        query = urllib.parse.urlencode(target.params)
        url = f"{target.yjs_base}/{room}" + (f"?{query}" if query else "")
        samples: dict[int, int] = {}

        def on_phase(name: str) -> None:
            if name.startswith("connected:"):
                time.sleep(1.0)
                samples[int(name.split(":", 1)[1])] = rss_bytes(target.pids())

        report = run_node_load(
            "idle.cjs",
            {"url": url, "stages": [BASELINE, *stages], "hold": hold},
            timeout=600,
            on_phase=on_phase,
        )
    report["rss_bytes"] = samples
    return report


def per_connection(report: dict[str, Any], stage: int) -> float | None:
    samples: dict[int, int] = report["rss_bytes"]
    opened = [s["open"] for s in report["stages"] if s["target"] == stage]
    base = [s["open"] for s in report["stages"] if s["target"] == BASELINE]
    if not opened or not base or opened[0] not in samples or base[0] not in samples:
        return None
    grown = opened[0] - base[0]
    return (samples[opened[0]] - samples[base[0]]) / grown if grown > 0 else None


def run(ctx: Context) -> Outcome:
    stages = [300] if ctx.quick else [1000, 5000, 10000]
    rows = {
        n: Row(
            "6 idle sockets", f"{n:,} connections: RSS growth per socket", budget="cowrite ≤ 12 KB"
        )
        for n in stages
    }
    raw: dict[str, Any] = {}
    met: dict[str, bool | None] = {}
    for target in [NodeReference(ctx.logs), Cowrite(ctx.logs, "sqlite")]:
        if not ctx.wanted(target):
            continue
        reason = skip_reason(target, "yjs")
        if reason:
            for row in rows.values():
                row.values[target.name] = reason
            continue
        try:
            report = measure(target, stages, hold=1.5 if ctx.quick else 2.5)
        except BenchError as exc:
            for row in rows.values():
                row.values[target.name] = f"error: {str(exc)[:60]}"
            continue
        raw[target.name] = report
        ok = True
        for stage, row in rows.items():
            value = per_connection(report, stage)
            opened = next((s for s in report["stages"] if s["target"] == stage), None)
            count = opened["open"] if opened else 0
            short = "" if count == stage else f" ({count:,} open)"
            row.values[target.name] = "—" if value is None else f"{value / 1024:.1f} KB{short}"
            ok = ok and value is not None and value <= BUDGET_BYTES and not short
        if isinstance(target, Cowrite):
            met[target.name] = ok
    for row in rows.values():
        row.verdict = verdict(met)
    return Outcome(rows=list(rows.values()), raw=raw)
