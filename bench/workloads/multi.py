"""Workload 2: real multi-user traces replayed through one Yjs client per agent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.procs import BenchError, PhaseSampler, run_node_load
from bench.report import Row
from bench.servers import Cowrite, Target
from bench.workloads import Context, Outcome
from bench.workloads.common import skip_reason, verdict
from bench.workloads.single import wait_rest_content

SPEED = 1000  # transactions/s over all agents: accelerated, the traces carry no usable timing
QUICK_TXNS = 1000


def measure(target: Target, trace: Path, limit: int) -> dict[str, Any]:
    with target:
        room = target.new_room()
        config = {
            "base": target.yjs_base,
            "room": room,
            "params": target.params,
            "file": str(trace),
            "limit": limit,
            "speed": SPEED,
            "timeout": 120,
        }
        sampler = PhaseSampler(target.pids)
        report = run_node_load("multi.cjs", config, timeout=400, on_phase=sampler)
        report["server_cpu_pct"] = sampler.cpu_pct
        if isinstance(target, Cowrite):
            report["rest_matches"] = wait_rest_content(target, room, report["expected_length"])
    return report


def ok(report: dict[str, Any]) -> bool:
    return bool(report["clients_equal"]) and report.get("rest_matches") is not False


def cell(report: dict[str, Any]) -> str:
    lat = report["latency_ms"]
    checks = [] if report["clients_equal"] else ["clients differ"]
    if report.get("rest_matches") is False:
        checks.append("database differs")
    verdict_text = ", ".join(checks) if checks else "all equal"
    p99 = "—" if lat["p99"] is None else f"{lat['p99']:,.0f}"
    p50 = "—" if lat["p50"] is None else f"{lat['p50']:,.1f}"
    return (
        f"{verdict_text} · {report['seconds']:.1f} s · p99 {p99} · p50 {p50} ms · "
        f"cpu {report['server_cpu_pct'] or 0:.0f} % / load {report['client_cpu_pct']:.0f} %"
    )


def run(ctx: Context) -> Outcome:
    names = ["friendsforever"] if ctx.quick else ["friendsforever", "clownschool"]
    limit = QUICK_TXNS if ctx.quick else 0
    rows: list[Row] = []
    raw: dict[str, Any] = {}
    for name in names:
        span = f"first {limit:,} txns" if limit else "whole trace"
        row = Row(
            "2 multi-user trace",
            f"{name}, {span}, {SPEED:,} txns/s",
            budget="every client and the database end equal",
        )
        rows.append(row)
        trace = ctx.trace(name)
        if trace is None:
            row.values["all"] = "n/a (trace not found)"
            continue
        met: dict[str, bool | None] = {}
        raw[name] = {}
        for target in ctx.yjs_targets(pycrdt=not ctx.quick):
            if not ctx.wanted(target):
                continue
            reason = skip_reason(target, "yjs")
            if reason:
                row.values[target.name] = reason
                continue
            try:
                report = measure(target, trace, limit)
            except BenchError as exc:
                row.values[target.name] = f"error: {str(exc)[:60]}"
                continue
            raw[name][target.name] = report
            row.values[target.name] = cell(report)
            if isinstance(target, Cowrite):
                met[target.name] = ok(report)
        row.verdict = verdict(met)
    return Outcome(rows=rows, raw=raw)
